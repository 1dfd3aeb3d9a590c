// Command etcd is etcd v3.5.10's server (go.etcd.io/etcd/server/v3/etcdmain), built from the
// same module graph as kube-apiserver so the two share one Go build cache. The HA tests run
// it as the API server's datastore on loopback (scripts/kube-apiserver).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
