module example.com/linkerd2-proxy-init

go 1.19
