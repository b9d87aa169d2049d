//===- Check.h - counted checks for the CUDA runtime tests ------*- C++ -*-===//
//
// CHECK(cond, fmt, ...) counts a check and prints a failure with its place;
// the tests end by printing "<name>: N checks, M failed" for FileCheck.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_TEST_RUNTIME_CUDA_CHECK_H
#define MOE_TEST_RUNTIME_CUDA_CHECK_H

#include <cstdio>

static int checks = 0, failures = 0;
#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    ++checks;                                                                  \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      std::printf("FAILED %s:%d: ", __FILE__, __LINE__);                       \
      std::printf(__VA_ARGS__);                                                \
      std::printf("\n");                                                       \
    }                                                                          \
  } while (0)

#endif // MOE_TEST_RUNTIME_CUDA_CHECK_H
