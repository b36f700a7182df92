// MpiRunner: `mpirun -np N kiln run --runner MpiRunner` runs a pipeline across N MPI ranks.
// Every rank loads the same project (a shared file system is assumed) and builds the same
// plan; rank 0 schedules (scheduler.hpp), the others run what they are sent. In-memory values travel between ranks as MPI messages in their codec's encoding;
// persisted datasets are read and written by the rank that runs the node. Hooks, the
// progress line, the report and the run record are rank 0's.
#include <dlfcn.h>
#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>

#include <kiln/distributed.hpp>
#include <kiln/runner.hpp>
#include <kiln/sdk.hpp>
#include <kiln/version.hpp>

#include "rank_service.hpp"
#include "scheduler.hpp"

namespace kiln::mpi {
namespace {

// Refuses to go on unless every rank built the plan rank 0 built.
void check_same_plan(RunContext& ctx, const Transport& t) {
    const std::string mine = ctx.distributed().plan_fingerprint();
    std::uint64_t size = mine.size();
    check(MPI_Bcast(&size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
    std::string rank0(size, '\0');
    if (t.rank() == 0) rank0 = mine;
    check(MPI_Bcast(rank0.data(), static_cast<int>(size), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
    int same = rank0 == mine ? 1 : 0, all_same = 0;
    check(MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
    if (!all_same)
        throw RunnerError("MpiRunner: the ranks built different pipelines (rank " + std::to_string(t.rank()) +
                          (same ? " agrees with rank 0" : " differs from rank 0") +
                          "). Every rank must see the same project files, parameters and plugins: put them on a "
                          "file system shared by all nodes and pass the same command line.");
}

// A rank other than 0: run what rank 0 sends until it says quit.
void serve(RunContext& ctx, Transport& t, RankService& service) {
    Backoff backoff;
    bool quitting = false;
    for (;;) {
        bool active = t.pump();
        if (auto r = service.step()) {
            active = true;
            Writer done_message;
            done_message.u32(static_cast<std::uint32_t>(r->node))
                .u32(r->ok ? 1 : 0)
                .u64(r->max_rss_bytes)
                .u64(r->bytes_received)
                .f64(r->seconds_waiting)
                .str(r->error);
            auto outputs = r->ok ? service.output_sizes(r->node) : decltype(service.output_sizes(0)){};
            done_message.u32(static_cast<std::uint32_t>(outputs.size()));
            for (const auto& [name, size] : outputs) done_message.str(name).u64(size);
            t.send(0, done, done_message.take());
        }
        while (auto m = t.poll()) {
            active = true;
            if (service.handle(*m)) continue;
            Reader in(m->bytes);
            if (m->tag == Tag::run) {
                std::size_t node = in.u32();
                std::set<std::string> awaited;
                for (std::uint32_t k = in.u32(); k > 0; --k) awaited.insert(in.str());
                service.expect_node(node, std::move(awaited));
            } else if (m->tag == quit) {
                quitting = true;
            } else {
                throw RunnerError("MpiRunner: rank " + std::to_string(t.rank()) + " got an unexpected message (tag " +
                                  std::to_string(m->tag) + ") from rank " + std::to_string(m->source));
            }
        }
        if (quitting && service.idle() && !t.sends_pending()) return;
        if (ctx.stop_requested()) return;
        if (active) backoff.reset();
        else backoff.idle();
    }
}

class MpiRunner final : public kiln::Runner, public kiln::DistributedRunner {
public:
    MpiRunner() {
#ifdef OPEN_MPI
        // kiln loads plugins with RTLD_LOCAL; Open MPI's own components need libmpi's
        // symbols visible globally, so make the already-loaded libmpi global first.
        Dl_info info{};
        if (::dladdr(reinterpret_cast<void*>(MPI_COMM_WORLD), &info) && info.dli_fname)
            ::dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
#endif
        int initialized = 0;
        MPI_Initialized(&initialized);
        if (!initialized) {
            int provided = 0;
            check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
            owns_mpi_ = true;
        }
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    }

    ~MpiRunner() override {
        if (!owns_mpi_) return;
        // After a clean run every rank finalizes together.
        if (clean_) {
            MPI_Finalize();
            return;
        }
        // Otherwise the others may wait for this rank forever: the job must end. Rank 0
        // reports why, so the other ranks give it a moment before they end it.
        if (rank_ != 0) std::this_thread::sleep_for(std::chrono::seconds(1));
        // kiln refused the run before it started (say, a --resources cap no node can
        // meet): this object is destroyed while that error is still on its way to the
        // user. Leaving without MPI_Finalize makes mpirun end the job once kiln has
        // exited, after its message.
        if (!ran_) return;
        MPI_Abort(MPI_COMM_WORLD, 1);
    }

    bool primary() const override { return rank_ == 0; }
    std::string launcher() const override {
        int size = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        return "mpirun -np " + std::to_string(size);
    }

    void run(RunContext& ctx) override {
        ran_ = true;
        Transport transport;
        check_same_plan(ctx, transport);
        const unsigned me = static_cast<unsigned>(rank_);
        RankService::RunHere run_here;
        if (rank_ == 0) run_here = [&ctx](std::size_t node, std::string* error) { return ctx.run_node(node, 0, error); };
        else run_here = [&ctx, me](std::size_t node, std::string* error) { return ctx.distributed().run_delegated(node, me, error); };
        RankService service(ctx, transport, run_here);
        if (rank_ != 0) {
            serve(ctx, transport, service);
            clean_ = !ctx.stop_requested();
            return;
        }
        if (ctx.settings().max_workers > 0)
            kiln::log::warn("MpiRunner: --max-workers is ignored; the ranks started by mpirun -np run the nodes");
        const char* locality = std::getenv("KILN_MPI_LOCALITY");
        Scheduler scheduler(ctx, transport, service, !(locality && std::strcmp(locality, "0") == 0));
        if (transport.size() > 1)
            kiln::log::info("MpiRunner: " + std::to_string(transport.size()) + " ranks: rank 0 schedules, " +
                            std::to_string(transport.size() - 1) + " run nodes");
        scheduler.run();
        const TransferStats& moved = scheduler.transfers();
        if (moved.bytes > 0) {
            const double mib = static_cast<double>(moved.bytes) / (1024.0 * 1024.0);
            kiln::log::info("MpiRunner: moved " + std::to_string(mib) + " MiB between ranks, " +
                            std::to_string(moved.seconds) + " s of waiting for inputs (" +
                            std::to_string(moved.seconds > 0 ? mib / moved.seconds : 0.0) + " MiB/s)");
        }
        for (int r = 1; r < transport.size(); ++r) transport.send(r, quit, {});
        Backoff backoff;
        while (transport.sends_pending() && !ctx.stop_requested())
            if (!transport.pump()) backoff.idle();
        clean_ = !ctx.stop_requested();
    }

private:
    int rank_ = 0;
    bool owns_mpi_ = false;
    bool clean_ = false;
    bool ran_ = false;  // run() was called: the ranks may be inside collective calls
};

}  // namespace
}  // namespace kiln::mpi

KILN_PLUGIN_VERSIONED(mpi, KILN_VERSION_STRING) {
    reg.runner<kiln::mpi::MpiRunner>(
        "MpiRunner", {.doc = "across the ranks of `mpirun -np N kiln run --runner MpiRunner` (Open MPI)"});
}
