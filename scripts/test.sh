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

/usr/bin/python3 "$root/scripts/summarize-tests.py" "$results"/*.xml
summary_rc=$?
if [[ $lit_rc -ne 0 || $pytest_rc -ne 0 || $summary_rc -ne 0 ]]; then
  exit 1
fi
