module example.com/linkerd2

go 1.19
