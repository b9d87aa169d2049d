#!/usr/bin/env bash
# Builds the libFuzzer target moe-fuzz (tools/moe-fuzz: parse -> verify ->
# every pipeline -> CUDA translation) with ASan, UBSan and assertions into
# $MOE_FUZZ_BUILD_DIR (default build-fuzz/), and fuzzes or replays with it.
#
#   scripts/fuzz.sh [SECONDS] [LIBFUZZER-ARGS...]
#       Fuzz for SECONDS (default 90), starting from a scratch copy of the
#       checked-in seeds test/Fuzz/corpus and the inputs of past findings,
#       test/Fuzz/regressions (new inputs go to the copy,
#       $build/corpus, never into test/Fuzz) with the dictionary
#       test/Fuzz/moe.dict. Exits non-zero on any crash, assertion failure,
#       sanitizer report (leaks included), timeout (a hang: one input over
#       10 s), input over the memory limit or round-trip failure; the input
#       that caused it is saved in $build/artifacts/. Prints the number of
#       executed inputs.
#   scripts/fuzz.sh --replay [DIR-OR-FILE...] [-- LIBFUZZER-ARGS...]
#       Run every file once (default: test/Fuzz/regressions), each in its own
#       process, without fuzzing; exits non-zero if any of them fails.
#   scripts/fuzz.sh --build
#       Only configure (once) and build moe-fuzz.
#
# Environment: MOE_FUZZ_CORPUS=DIR fuzzes into DIR instead of a fresh
# $build/corpus (keeps the corpus between runs, e.g. for long runs);
# MOE_FUZZ_VERBOSE=1 and MOE_FUZZ_PIPELINES=a,b are read by moe-fuzz itself
# (tools/moe-fuzz/moe-fuzz.cpp).
#
# To reproduce an artifact by hand:
#   build-fuzz/bin/moe-fuzz build-fuzz/artifacts/crash-<sha1>
#   MOE_FUZZ_VERBOSE=1 build-fuzz/bin/moe-fuzz <file>    # stages, diagnostics
# and with the release tools, e.g. build/bin/moe-opt <file> --moe-lower-to-cpu.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_FUZZ_BUILD_DIR:-$root/build-fuzz}
llvm=/usr/lib/llvm-22
fuzz_dir=$root/test/Fuzz

build_fuzzer() {
  if [[ ! -f "$build/build.ninja" ]]; then
    # -O1 and line tables: fast enough to build on two cores, symbolized
    # stacks with file:line. MOE_ENABLE_FUZZER adds the sanitizers.
    CC=clang-22 CXX=clang++-22 cmake -G Ninja -S "$root" -B "$build" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
      -DMOE_ENABLE_FUZZER=ON \
      -DMLIR_DIR=$llvm/lib/cmake/mlir \
      -DLLVM_EXTERNAL_LIT=$llvm/bin/lit \
      -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null || return 1
  fi
  ninja -C "$build" moe-fuzz
}

# Leak detection stays on (libFuzzer checks each input whose mallocs and
# frees do not balance): moe-fuzz gives every input its own MLIRContext, so
# what MLIR keeps in static storage is created before the first input or is
# reachable from globals, and a report is a real leak (an op built and never
# inserted or erased, say). Sanitizer defaults: tools/moe-fuzz/moe-fuzz.cpp.
export ASAN_SYMBOLIZER_PATH=$llvm/bin/llvm-symbolizer
common_args=(-timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=4096
             -artifact_prefix="$build/artifacts/")

if [[ ${1:-} == --build ]]; then
  build_fuzzer
  exit
fi

if ! build_fuzzer; then
  echo "fuzz: building moe-fuzz failed"
  exit 2
fi
fuzzer=$build/bin/moe-fuzz
mkdir -p "$build/artifacts"

if [[ ${1:-} == --replay ]]; then
  shift
  inputs=()
  while [[ $# -gt 0 && $1 != -- ]]; do inputs+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  [[ ${#inputs[@]} -eq 0 ]] && inputs=("$fuzz_dir/regressions")
  files=()
  for input in "${inputs[@]}"; do
    if [[ -d $input ]]; then
      while IFS= read -r -d '' f; do files+=("$f"); done \
        < <(find "$input" -type f ! -name '.*' ! -name 'README*' -print0 | sort -z)
    else
      files+=("$input")
    fi
  done
  failed=0
  for f in "${files[@]}"; do
    # One process per file, so that one failure does not hide the others.
    if out=$(MOE_FUZZ_VERBOSE=1 "$fuzzer" "${common_args[@]}" "$@" "$f" 2>&1)
    then
      echo "PASS $f"
      continue
    fi
    failed=$((failed + 1))
    echo "FAIL $f"
    # The report's first line and the top frames in the project's code (else
    # the top frames outside the runtimes).
    frames=$(grep -E '^ *#[0-9]+ ' <<<"$out" | grep -v -E \
      'fuzzer::|__sanitizer|__asan|__ubsan|libc\.so|abort|raise|__assert|pthread_kill|_start|main ')
    {
      grep -E '^moe-fuzz: (pipeline|parse|verify|round-trip)' <<<"$out" |
        tail -n 1 | sed 's/^moe-fuzz: /in /'
      grep -m 1 -E 'ERROR: |runtime error:|Assertion|LLVM ERROR|^moe-fuzz: the' \
        <<<"$out"
      grep -E " $root/(lib|include)/" <<<"$frames" | head -n 3 |
        grep . || head -n 3 <<<"$frames"
    } | sed -E 's/ \(BuildId: [0-9a-f]+\)//; s/^ +//; s/^/    /'
  done
  echo "fuzz: replayed ${#files[@]} inputs, $failed failed"
  [[ $failed -eq 0 ]]
  exit
fi

seconds=90
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi

# New inputs go to a scratch corpus; the checked-in seeds stay as they are.
corpus=${MOE_FUZZ_CORPUS:-}
if [[ -z $corpus ]]; then
  corpus=$build/corpus
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp "$fuzz_dir"/corpus/* "$corpus"/
  # The inputs of past findings run first with the seeds, so that a bug
  # that comes back fails the run at once.
  find "$fuzz_dir/regressions" -type f ! -name '.*' ! -name 'README*' \
    -exec cp {} "$corpus"/ \;
fi
mkdir -p "$corpus"
log=$build/fuzz.log
stamp=$build/artifacts/.start
touch "$stamp"

echo "fuzz: $seconds s of moe-fuzz on $corpus (log: $log)"
start=$(date +%s)
"$fuzzer" "${common_args[@]}" -max_total_time="$seconds" \
  -dict="$fuzz_dir/moe.dict" -only_ascii=1 -print_final_stats=1 \
  "$@" "$corpus" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
elapsed=$(( $(date +%s) - start ))

new_artifacts=$(find "$build/artifacts" -type f -newer "$stamp" ! -name '.*')
# The final stats (-print_final_stats); with -fork=N only the last status
# line ("#N: cov: ... corp: ...") counts the executions.
fuzz_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
executed=$(fuzz_stat number_of_executed_units)
[[ -z $executed ]] && executed=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")
rss=$(fuzz_stat peak_rss_mb)
echo "fuzz: executed ${executed:-0} inputs in $elapsed s" \
     "($(( ${executed:-0} / (elapsed > 0 ? elapsed : 1) )) exec/s)," \
     "$(ls "$corpus" | wc -l) files in the corpus" \
     "($(ls "$fuzz_dir/corpus" | wc -l) seeds)${rss:+, peak RSS $rss MB}"
[[ -n $last ]] && echo "fuzz: last status: $last"
if [[ $rc -ne 0 || -n $new_artifacts ]]; then
  echo "fuzz: FAILED (exit status $rc)"
  for a in $new_artifacts; do echo "fuzz: artifact $a"; done
  exit 1
fi
echo "fuzz: no crash, sanitizer report or timeout"
