/* Found only through dlopen_outer's RUNPATH. */
int inner_value(void);
int inner_value(void) {
    return 42;
}
