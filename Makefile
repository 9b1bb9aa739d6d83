# Convenience entry points. The real build is CMake; see README.md.
#   make demo   - install missing packages, build, run the demo
#   make test   - install missing packages, build, run the whole test suite
#   make asan   - the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench  - build and run the benchmarks

BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
WERROR ?= OFF

.PHONY: all deps build demo test asan bench clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DPROSE_WERROR=$(WERROR) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/prosed/prose demo

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Sanitizer reports go to files (one per process) so a report from a process
# whose test still "passed" (Criterion does not fail on a leak report, a CLI
# test may not look) is never lost: any file there fails the run.
ASAN_LOG ?= $(ASAN_BUILD)/sanitizer-reports
asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROSE_ASAN=ON -DPROSE_UBSAN=ON \
	  -DPROSE_BENCH=OFF -DPROSE_WERROR=$(WERROR) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@rm -rf $(ASAN_LOG) && mkdir -p $(ASAN_LOG)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:log_path=$(abspath $(ASAN_LOG))/asan \
	  UBSAN_OPTIONS=print_stacktrace=1:log_path=$(abspath $(ASAN_LOG))/ubsan \
	  ctest --output-on-failure -j $(JOBS); rc=$$?; \
	  if [ -n "$$(ls -A $(abspath $(ASAN_LOG)))" ]; then \
	    cat $(abspath $(ASAN_LOG))/*; echo "asan: sanitizer reports found (above)"; exit 1; fi; \
	  exit $$rc

bench: build
	@$(BUILD)/bench/prose-bench all

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
