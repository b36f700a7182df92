#include "viz/html_layout.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <utility>

#include "viz/graph_text.hpp"

namespace kiln::core::viz {
namespace {

constexpr int ordering_sweeps = 8;
constexpr int placement_sweeps = 8;

// Adjacency in compressed rows: neighbours of box k are adj[start[k] .. start[k + 1]).
struct Adjacency {
    std::vector<std::size_t> start, adj;
};

Adjacency adjacency(std::size_t count, const std::vector<std::pair<std::size_t, std::size_t>>& links) {
    Adjacency a;
    a.start.assign(count + 1, 0);
    for (const auto& [s, t] : links) {
        ++a.start[s + 1];
        ++a.start[t + 1];
    }
    for (std::size_t k = 0; k < count; ++k) a.start[k + 1] += a.start[k];
    a.adj.resize(a.start.back());
    std::vector<std::size_t> fill(a.start.begin(), a.start.end() - 1);
    for (const auto& [s, t] : links) {
        a.adj[fill[s]++] = t;
        a.adj[fill[t]++] = s;
    }
    return a;
}

// Columns: node layer L goes to column 2L + 1; a produced dataset right after its producer
// (2L + 2, before any reader, since readers are in later layers); a free input right before
// its first reader. Empty columns are then squeezed out.
std::vector<std::size_t> item_ranks(const Pipeline& p, const Graph& g) {
    std::vector<std::size_t> layer(p.size(), 0);
    for (std::size_t l = 0; l + 1 < p.layer_starts().size(); ++l)
        for (std::size_t i = p.layer_starts()[l]; i < p.layer_starts()[l + 1]; ++i) layer[i] = l;
    std::vector<std::size_t> rank(g.items.size(), 0);
    for (std::size_t k = 0; k < g.items.size(); ++k) {
        const Item& item = g.items[k];
        if (item.kind == Kind::node) {
            rank[k] = 2 * layer[item.index] + 1;
            continue;
        }
        const auto id = static_cast<std::uint32_t>(item.index);
        const std::size_t producer = p.producer_of(id);
        if (producer != Pipeline::npos) rank[k] = 2 * layer[producer] + 2;
        else if (!p.consumers_of(id).empty()) rank[k] = 2 * layer[p.consumers_of(id).front()];
    }
    std::vector<std::size_t> used(2 * std::max<std::size_t>(p.layer_count(), 1) + 2, 0);
    for (std::size_t r : rank) used[r] = 1;
    std::size_t next = 0;
    for (auto& u : used) u = u ? next++ : 0;
    for (auto& r : rank) r = used[r];
    return rank;
}

// Orders each column to reduce crossings: alternating sweeps left-to-right and right-to-left
// place each box at the mean position of its neighbours in the columns already placed
// (the barycenter heuristic), and keep a namespace's boxes together at their mean. Each
// sweep is linear in edges plus a sort per column.
void order_columns(Layout& L, const Adjacency& a, std::size_t group_count) {
    const std::size_t n = L.boxes.size();
    const auto& b = L.boxes;
    std::vector<double> pos(n, 0), bary(n, 0), key(n, 0);
    std::vector<double> group_sum(group_count, 0);
    std::vector<std::size_t> group_size(group_count, 0);
    auto set_positions = [&](const std::vector<std::size_t>& column) {
        for (std::size_t k = 0; k < column.size(); ++k)
            pos[column[k]] = (static_cast<double>(k) + 0.5) / static_cast<double>(column.size());
    };
    for (const auto& column : L.ranks) set_positions(column);
    for (int sweep = 0; sweep < ordering_sweeps; ++sweep) {
        const bool forward = sweep % 2 == 0;
        for (std::size_t step = 0; step < L.ranks.size(); ++step) {
            const std::size_t r = forward ? step : L.ranks.size() - 1 - step;
            auto& column = L.ranks[r];
            for (std::size_t box : column) {
                double sum = 0;
                std::size_t count = 0;
                for (std::size_t e = a.start[box]; e < a.start[box + 1]; ++e) {
                    const std::size_t other = a.adj[e];
                    if (forward ? b[other].rank < r : b[other].rank > r) {
                        sum += pos[other];
                        ++count;
                    }
                }
                bary[box] = count ? sum / static_cast<double>(count) : pos[box];
                group_sum[b[box].group] += bary[box];
                ++group_size[b[box].group];
            }
            for (std::size_t box : column) {
                const std::size_t grp = b[box].group;
                key[box] = grp ? group_sum[grp] / static_cast<double>(group_size[grp]) : bary[box];
            }
            for (std::size_t box : column) {
                group_sum[b[box].group] = 0;
                group_size[b[box].group] = 0;
            }
            std::sort(column.begin(), column.end(), [&](std::size_t x, std::size_t y) {
                if (key[x] != key[y]) return key[x] < key[y];
                if (b[x].group != b[y].group) return b[x].group < b[y].group;
                if (bary[x] != bary[y]) return bary[x] < bary[y];
                return pos[x] < pos[y];
            });
            set_positions(column);
        }
    }
}

double gap_between(const Box& x, const Box& y) {
    if (x.bend && y.bend) return bend_gap;
    if (x.bend || y.bend) return bend_item_gap;
    return x.group == y.group || (!x.group && !y.group) ? item_gap : band_gap;
}

// Vertical positions: each box wants the mean height of its neighbours in the columns
// already placed; a column keeps its order and gaps by taking the mean of two feasible
// placements, one pushing boxes down from the top and one pushing them up from the bottom
// (the mean of two placements that keep every gap keeps every gap too).
void place_columns(Layout& L, const Adjacency& a) {
    auto& b = L.boxes;
    for (const auto& column : L.ranks) {
        double y = 0;
        for (std::size_t k = 0; k < column.size(); ++k) {
            if (k) y += gap_between(b[column[k - 1]], b[column[k]]);
            b[column[k]].y = y + b[column[k]].h / 2;
            y += b[column[k]].h;
        }
        for (std::size_t box : column) b[box].y -= y / 2;
    }
    std::vector<double> want, down, up;
    for (int sweep = 0; sweep < placement_sweeps; ++sweep) {
        const bool forward = sweep % 2 == 0;
        for (std::size_t step = 0; step < L.ranks.size(); ++step) {
            const std::size_t r = forward ? step : L.ranks.size() - 1 - step;
            const auto& column = L.ranks[r];
            const std::size_t m = column.size();
            want.assign(m, 0);
            for (std::size_t k = 0; k < m; ++k) {
                const std::size_t box = column[k];
                double side = 0, all = 0;
                std::size_t side_count = 0, all_count = 0;
                for (std::size_t e = a.start[box]; e < a.start[box + 1]; ++e) {
                    const std::size_t other = a.adj[e];
                    all += b[other].y;
                    ++all_count;
                    if (forward ? b[other].rank < r : b[other].rank > r) {
                        side += b[other].y;
                        ++side_count;
                    }
                }
                want[k] = side_count ? side / static_cast<double>(side_count)
                          : all_count ? all / static_cast<double>(all_count)
                                      : b[box].y;
            }
            down.assign(m, 0);
            up.assign(m, 0);
            for (std::size_t k = 0; k < m; ++k) {
                down[k] = want[k];
                if (k) {
                    const Box &prev = b[column[k - 1]], &cur = b[column[k]];
                    down[k] = std::max(down[k], down[k - 1] + (prev.h + cur.h) / 2 + gap_between(prev, cur));
                }
            }
            for (std::size_t k = m; k-- > 0;) {
                up[k] = want[k];
                if (k + 1 < m) {
                    const Box &cur = b[column[k]], &next = b[column[k + 1]];
                    up[k] = std::min(up[k], up[k + 1] - (cur.h + next.h) / 2 - gap_between(cur, next));
                }
            }
            for (std::size_t k = 0; k < m; ++k) b[column[k]].y = (down[k] + up[k]) / 2;
        }
    }
}

// An edge spanning several columns crosses each column between them through a bend, a thin
// box that takes part in ordering and placement, so long edges run between items instead of
// through them. Bends are given to the shortest edges first, up to a budget proportional to
// the items, so a pipeline whose edges span many columns (a parameter read by every layer)
// stays linear in size: edges over the budget are drawn straight.
void add_bends(const Graph& g, Layout& L) {
    const std::size_t budget = std::max<std::size_t>(20000, 8 * g.items.size());
    auto span = [&](std::size_t e) { return L.boxes[g.edges[e].second].rank - L.boxes[g.edges[e].first].rank; };
    std::vector<std::size_t> order;
    for (std::size_t e = 0; e < g.edges.size(); ++e)
        if (span(e) > 1) order.push_back(e);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return span(x) < span(y); });
    L.bends.assign(g.edges.size(), {});
    std::size_t used = 0;
    for (std::size_t e : order) {
        if (used + span(e) - 1 > budget) break;
        used += span(e) - 1;
        const auto [s, t] = g.edges[e];
        const std::size_t group = L.boxes[s].group == L.boxes[t].group ? L.boxes[s].group : 0;
        for (std::size_t r = L.boxes[s].rank + 1; r < L.boxes[t].rank; ++r) {
            Box bend;
            bend.rank = r;
            bend.group = group;
            bend.bend = true;
            bend.h = bend_h;
            L.bends[e].push_back(L.boxes.size());
            L.ranks[r].push_back(L.boxes.size());
            L.boxes.push_back(std::move(bend));
        }
    }
}

}  // namespace

Layout layout(const Pipeline& p, const GraphOptions& o, const Graph& g) {
    Layout L;
    const std::vector<std::size_t> rank = item_ranks(p, g);
    std::size_t columns = 0;
    for (std::size_t r : rank) columns = std::max(columns, r + 1);
    L.ranks.resize(columns);
    L.boxes.resize(g.items.size());
    for (std::size_t k = 0; k < g.items.size(); ++k) {
        Box& box = L.boxes[k];
        box.rank = rank[k];
        box.group = g.items[k].group;
        L.ranks[rank[k]].push_back(k);
        const Labels l = labels_of(p, o, g.items[k]);
        int name_w = 0, detail_w = 0, tags_w = 0;
        std::tie(box.name, name_w) = fit_text(l.name, name_columns);
        if (!l.detail.empty()) std::tie(box.detail, detail_w) = fit_text(l.detail, small_columns);
        if (!l.tags.empty()) std::tie(box.tags, tags_w) = fit_text(l.tags, small_columns);
        const double text_w = std::max(name_w * name_char_w, std::max(detail_w, tags_w) * small_char_w);
        const int lines = 1 + !box.detail.empty() + !box.tags.empty();
        box.w = std::max(64.0, std::ceil(text_w) + (g.items[k].kind == Kind::parameter ? 36 : 24));
        box.h = 2 * pad_y + lines * line_h + (g.items[k].kind == Kind::persisted ? 2 * cap_h : 0);
    }
    add_bends(g, L);
    std::vector<std::pair<std::size_t, std::size_t>> links;
    links.reserve(g.edges.size() + L.boxes.size() - g.items.size());
    for (std::size_t e = 0; e < g.edges.size(); ++e) {
        std::size_t from = g.edges[e].first;
        for (std::size_t bend : L.bends[e]) {
            links.emplace_back(from, bend);
            from = bend;
        }
        links.emplace_back(from, g.edges[e].second);
    }
    const Adjacency a = adjacency(L.boxes.size(), links);
    order_columns(L, a, g.groups.size());
    place_columns(L, a);

    double top = 0, bottom = 0;
    bool first = true;
    for (const Box& box : L.boxes) {
        if (first || box.y - box.h / 2 < top) top = box.y - box.h / 2;
        if (first || box.y + box.h / 2 > bottom) bottom = box.y + box.h / 2;
        first = false;
    }
    const double shift = margin + band_head + band_pad - top;
    for (Box& box : L.boxes) box.y += shift;
    L.column_x.assign(columns, 0);
    L.column_w.assign(columns, 0);
    for (const Box& box : L.boxes) L.column_w[box.rank] = std::max(L.column_w[box.rank], box.w);
    double x = margin + band_pad;
    for (std::size_t r = 0; r < columns; ++r) {
        L.column_x[r] = x;
        x += L.column_w[r] + column_gap;
    }
    for (Box& box : L.boxes) box.x = box.bend ? L.column_x[box.rank] : L.column_x[box.rank] + (L.column_w[box.rank] - box.w) / 2;
    L.width = std::max(200.0, (columns ? x - column_gap : x) + band_pad + margin);
    L.height = std::max(120.0, bottom - top + 2 * margin + band_head + 2 * band_pad);
    return L;
}

}  // namespace kiln::core::viz
