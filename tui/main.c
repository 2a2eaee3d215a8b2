/* main.c - chat-tui: options, then the application (app.c). */
#include <stdio.h>

int
main(void)
{
	fputs("chat-tui: not built yet\n", stderr);
	return 1;
}
