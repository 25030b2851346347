#include <stdio.h>
int main(void) { puts("btvm " BTVM_VERSION); return 0; }
