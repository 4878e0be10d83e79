module leakwatch.dev/benchfleet

go 1.24
