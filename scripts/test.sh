#!/usr/bin/env bash
# Sets up the machine, builds everything and runs every test suite. Ends with
# the line "N passed, N failed"; exits non-zero if anything failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh" || { echo "0 passed, 1 failed"; exit 1; }
if ! "$root/scripts/build.sh"; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
# The test inputs the lit suite depends on (plugin, C API test, docs).
if ! ninja -C "$build" moe-capi-test MoePlugin MoeCAPIShared moe-doc >/dev/null; then
  echo "0 passed, 1 failed"
  exit 1
fi

results="$build/test-results"
mkdir -p "$results"
rm -f "$results"/*.xml
/usr/bin/python3 /usr/lib/llvm-22/bin/lit -sv "$build/test" \
  --xunit-xml-output "$results/lit.xml"
lit_rc=$?

# The Python package and the differential tests against the NumPy reference.
MOE_CAPI_LIB="$build/lib/libMoeCAPI.so" /usr/bin/python3 -m pytest -q \
  -p no:cacheprovider "$root/python/tests" --junitxml="$results/pytest.xml"
pytest_rc=$?

# A bounded run of the libFuzzer target over parse -> verify -> every
# pipeline, under ASan and UBSan (scripts/fuzz.sh; its own build in
# build-fuzz/). One test case: any crash, sanitizer report or hang fails it.
# A fixed seed makes the run the same sequence of inputs every time (so a
# failure reproduces); by hand, scripts/fuzz.sh explores with random seeds.
fuzz_seconds=${MOE_FUZZ_SECONDS:-90}
fuzz_start=$(date +%s)
"$root/scripts/fuzz.sh" "$fuzz_seconds" -seed="${MOE_FUZZ_SEED:-1}" \
  >"$results/fuzz.log" 2>&1
fuzz_rc=$?
fuzz_time=$(($(date +%s) - fuzz_start))
grep '^fuzz: ' "$results/fuzz.log"
if [[ $fuzz_rc -ne 0 ]]; then
  echo "fuzz: FAILED; the end of $results/fuzz.log:"
  tail -n 80 "$results/fuzz.log"
fi
/usr/bin/python3 "$root/scripts/summarize-tests.py" --write-case \
  "$results/fuzz.xml" fuzz "moe-fuzz ${fuzz_seconds} s (ASan+UBSan)" \
  "$fuzz_rc" "$fuzz_time" "$results/fuzz.log"

/usr/bin/python3 "$root/scripts/summarize-tests.py" "$results"/*.xml
summary_rc=$?
if [[ $lit_rc -ne 0 || $pytest_rc -ne 0 || $fuzz_rc -ne 0 ||
      $summary_rc -ne 0 ]]; then
  exit 1
fi
