/* config.h: a placeholder; ./configure rewrites this file */
#error "run ./configure first"
