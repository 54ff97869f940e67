/**
 * \file
 * Entry point: everything happens in mxc_cli_main, so tests can drive the
 * command line in-process.
 */
#include "scanner/cli.h"

int main(int argc, char **argv)
{
	return mxc_cli_main(argc, argv);
}
