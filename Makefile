# KIS top-level build. `make` builds kis.ko and kisctl; `make test` runs every
# test and ends with "N passed, N failed"; `make demo` runs the demo in a guest.
# Both run scripts/setup first when something is missing.

TOP := $(CURDIR)
CACHE ?= $(TOP)/.cache
BUILD ?= $(TOP)/build
KVER = $(shell cat $(CACHE)/kernel/version 2>/dev/null)
# Recursive on purpose: expanded in recipes, after scripts/setup has run. Debian's
# headers package provides /usr/src/linux-headers-VER; /lib/modules/VER/build only
# exists when that kernel's modules are installed too.
KDIR ?= $(if $(wildcard /lib/modules/$(KVER)/build/Makefile),/lib/modules/$(KVER)/build,/usr/src/linux-headers-$(KVER))
SETUP_STAMP := $(CACHE)/kernel/version

.PHONY: all setup module kisctl test unit demo clean

all: module kisctl

setup:
	bash scripts/setup

# Again whenever scripts/setup changes (a new package): it only does what is missing.
$(SETUP_STAMP): scripts/setup
	bash scripts/setup

module: $(SETUP_STAMP)
	$(MAKE) -C $(KDIR) M=$(TOP)/kernel/kis modules

kisctl: $(SETUP_STAMP)
	cmake -S $(TOP) -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(shell nproc)

unit: kisctl
	$(BUILD)/kis_unit

# make test T='cell_*' runs the units and the matching scenarios only.
test: all
	bash tests/run-all $(T)

demo: all
	bash tests/demo

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP)/kernel/kis clean
	rm -rf $(BUILD)

# make bench: the sequence model's cost (hot path, offline throughput), when the UNM
# data set is there its detection rates next to stide, and in a guest the cost of a
# system call with KIS loaded, unwatched and watched. Figures are printed, never checked.
UNM ?= $(TOP)/../shared/datasets/unm
.PHONY: bench
bench: all
	$(BUILD)/kis_bench_seq $(UNM)
	@echo
	$(BUILD)/kis_bench_unm $(UNM) --sweep
	@echo
	KIS_RUN_QUIET=1 tests/qemu/run --no-load --script bench/guest_getppid.sh 2>&1 | \
		sed -n '/^getppid/,/^KIS-RESULT/p' | grep -v '^KIS-RESULT'

CHECKPATCH := $(CACHE)/linux-tools/scripts/checkpatch.pl
KERNEL_SOURCES = $(filter-out %.mod.c,$(wildcard kernel/kis/*.[ch] kernel/kis/core/*.[ch])) \
	kernel/kis/include/uapi/linux/kis.h

.PHONY: checkpatch
checkpatch: $(SETUP_STAMP)
	@test -f $(CHECKPATCH) || bash scripts/setup
	perl $(CHECKPATCH) --strict --no-tree --quiet --show-types -f $(KERNEL_SOURCES)
