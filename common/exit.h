/* The exit codes of every cwexport command (docs/architecture.md §exit-codes),
 * in one place for the commands that return them and the run that decides
 * them. */
#ifndef CWX_COMMON_EXIT_H
#define CWX_COMMON_EXIT_H

enum cwx_exit {
    CWX_EXIT_OK = 0,          /* every planned window done or skipped */
    CWX_EXIT_FAILED = 1,      /* some windows failed */
    CWX_EXIT_USAGE = 2,       /* usage or config error */
    CWX_EXIT_CREDENTIALS = 3, /* credential or permission error */
    CWX_EXIT_LOOP_GUARD = 4,  /* loop guard tripped */
    CWX_EXIT_INTERRUPTED = 130,
};

#endif
