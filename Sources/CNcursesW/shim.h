#ifndef SLIRPMON_CNCURSESW_SHIM_H
#define SLIRPMON_CNCURSESW_SHIM_H

#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <wchar.h>
#include <stdio.h>
#include <ncursesw/curses.h>

/* Swift 6 cannot read these C globals or import function-like macros: wrap them. */
static inline WINDOW *slirpmon_stdscr(void) { return stdscr; }
static inline int slirpmon_lines(void) { return LINES; }
static inline int slirpmon_cols(void) { return COLS; }
static inline int slirpmon_color_pair(int n) { return COLOR_PAIR(n); }
static inline int slirpmon_key_resize(void) { return KEY_RESIZE; }
static inline int slirpmon_key_f(int n) { return KEY_F(n); }

/* Attributes are macros built from NCURSES_BITS. */
static inline unsigned int slirpmon_a_normal(void) { return (unsigned int)A_NORMAL; }
static inline unsigned int slirpmon_a_bold(void) { return (unsigned int)A_BOLD; }
static inline unsigned int slirpmon_a_reverse(void) { return (unsigned int)A_REVERSE; }
static inline unsigned int slirpmon_a_dim(void) { return (unsigned int)A_DIM; }
static inline unsigned int slirpmon_a_underline(void) { return (unsigned int)A_UNDERLINE; }

/* Sets the attributes and colour pair of the next writes to `win`. */
static inline int slirpmon_set_attributes(WINDOW *win, unsigned int attributes, short pair) {
    return wattr_set(win, (attr_t)attributes, pair, NULL);
}

/* The window's size (getmaxyx is a macro). */
static inline int slirpmon_max_y(WINDOW *win) { return getmaxy(win); }
static inline int slirpmon_max_x(WINDOW *win) { return getmaxx(win); }

/* newterm on the process's stdout/stdin (Swift 6 cannot read the C stdio globals). */
static inline SCREEN *slirpmon_newterm(void) { return newterm(NULL, stdout, stdin); }

/* Mouse: button masks are macros. Clicks and the wheel only (no motion reports). */
static inline mmask_t slirpmon_mouse_mask(void) {
    return BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED;
}
static inline int slirpmon_mouse_kind(mmask_t state) {
    if (state & BUTTON4_PRESSED) return 4;
    if (state & BUTTON5_PRESSED) return 5;
    if (state & (BUTTON1_PRESSED | BUTTON1_CLICKED)) return 1;
    return 0;
}

#endif
