#include "analyze_logs/cli.hpp"

int main(int argc, char** argv) { return alog::run_cli(argc, argv); }
