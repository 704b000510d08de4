#ifndef SLIRPMON_CNCURSESW_SHIM_H
#define SLIRPMON_CNCURSESW_SHIM_H

#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

/* Swift 6 cannot read these C globals or import function-like macros: wrap them. */
static inline WINDOW *slirpmon_stdscr(void) { return stdscr; }
static inline int slirpmon_lines(void) { return LINES; }
static inline int slirpmon_cols(void) { return COLS; }
static inline int slirpmon_color_pair(int n) { return COLOR_PAIR(n); }
static inline int slirpmon_key_resize(void) { return KEY_RESIZE; }
static inline int slirpmon_key_f(int n) { return KEY_F(n); }

#endif
