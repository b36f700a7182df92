// Included first by every SDK header, so that a build with an older language standard
// stops with this one message before the C++20 code below it produces pages of errors.
#pragma once

#if !defined(__cplusplus) || __cplusplus < 202002L
#error "Kiln's SDK needs C++20 (-std=c++20 or later)"
#endif
