/* fuzz_shim: the libFuzzer targets of tests/fuzz compiled into this test
 * without libFuzzer. Each target's entry point is renamed so they can live
 * in one program; their file-scope names are already prefixed with the
 * target's name (see tests/fuzz/fuzz.h). A new target is added here with
 * one include and one table row; check_fuzz_regress fails until it is. */
#ifndef MXDNS_FUZZ_SHIM_H
#define MXDNS_FUZZ_SHIM_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_ENTRY fuzz_entry_answer
#include "../../fuzz/fuzz_answer.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_entry_zone
#include "../../fuzz/fuzz_zone.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_entry_config
#include "../../fuzz/fuzz_config.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_entry_blkey
#include "../../fuzz/fuzz_blkey.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_entry_blfast
#include "../../fuzz/fuzz_blfast.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_entry_blimport
#include "../../fuzz/fuzz_blimport.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_entry_spf
#include "../../fuzz/fuzz_spf.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_entry_dkim
#include "../../fuzz/fuzz_dkim.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_entry_txtrec
#include "../../fuzz/fuzz_txtrec.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_entry_dmarc
#include "../../fuzz/fuzz_dmarc.c"
#undef FUZZ_ENTRY

struct fuzz_target {
	const char *name;
	int (*entry)(const uint8_t *data, size_t size);
};

static const struct fuzz_target fuzz_targets[] = {
	{"answer", fuzz_entry_answer}, {"zone", fuzz_entry_zone},
	{"config", fuzz_entry_config}, {"blkey", fuzz_entry_blkey},
	{"blfast", fuzz_entry_blfast}, {"blimport", fuzz_entry_blimport},
	{"spf", fuzz_entry_spf},
	{"dkim", fuzz_entry_dkim}, {"txtrec", fuzz_entry_txtrec},
	{"dmarc", fuzz_entry_dmarc},
};
#define FUZZ_N_TARGETS (sizeof(fuzz_targets) / sizeof(fuzz_targets[0]))

#endif
