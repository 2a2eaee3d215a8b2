/*
 * analyzer.h - marking a false positive of `make analyze` (gcc -fanalyzer)
 * where it is, with the reason beside it.
 *
 * GCC 12's analyzer loses a pointer stored through another pointer whose
 * value it merged from two paths: an array grown on one path and not on the
 * other, or a struct reached through a pointer that a call on another path
 * may have changed. It then reports the stored allocation as leaked where
 * nothing leaks. A function where that happens goes between
 * ANALYZER_LEAK_FP_BEGIN and ANALYZER_LEAK_FP_END, with a comment that says
 * what frees what it stores. Only that warning, only there: the analyzer's
 * other checks still run on it, and AddressSanitizer's leak check (make
 * SAN=1) sees it at run time. Other compilers (clang builds the fuzz
 * targets) see nothing.
 */
#ifndef CHAT_ANALYZER_H
#define CHAT_ANALYZER_H

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10
#define ANALYZER_PUSH_         _Pragma("GCC diagnostic push")
#define ANALYZER_NO_LEAK_      _Pragma("GCC diagnostic ignored \"-Wanalyzer-malloc-leak\"")
#define ANALYZER_LEAK_FP_BEGIN ANALYZER_PUSH_ ANALYZER_NO_LEAK_
#define ANALYZER_LEAK_FP_END   _Pragma("GCC diagnostic pop")
#else
#define ANALYZER_LEAK_FP_BEGIN
#define ANALYZER_LEAK_FP_END
#endif

#endif
