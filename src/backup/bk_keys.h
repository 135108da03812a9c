/*
 * bk_keys.h: struct bk_keys (backup.h) from a pool's config file.
 */
#ifndef PP_BK_KEYS_H
#define PP_BK_KEYS_H

#include "backup.h"
#include "config.h"

/*
 * Fill ${k} from ${cfg} (which must outlive ${k}: its keys are borrowed).
 * Returns 0 or -1.  bk_keys_wipe wipes the copied private key.
 */
int bk_keys_from_config(const struct pp_config *cfg, struct bk_keys *k);
void bk_keys_wipe(struct bk_keys *k);

#endif
