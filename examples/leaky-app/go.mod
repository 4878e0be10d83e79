module leakwatch.dev/examples/leaky-app

go 1.26.0
