#pragma once

/* The greeting for `name`, in a static buffer. */
const char *hello_greeting(const char *name);
/* The library's version, from config.h. */
const char *hello_version(void);
