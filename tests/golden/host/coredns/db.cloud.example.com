; Managed by nexus-gitops (owner: nexus). Do not edit: the next sync overwrites this file.
; OpenStack API names in cloud.example.com, all pointing at the ingress address.
; The serial changes only when the records do: CoreDNS's file plugin reloads on a new serial.
$ORIGIN cloud.example.com.
$TTL 300
@	IN	SOA	ns.cloud.example.com. hostmaster.cloud.example.com. ( 2026112200 3600 600 604800 300 )
@	IN	NS	ns.cloud.example.com.
ns	IN	A	172.18.30.167
block-storage	IN	A	172.18.30.166
cloudformation	IN	A	172.18.30.166
compute	IN	A	172.18.30.166
dashboard	IN	A	172.18.30.166
dns	IN	A	172.18.30.166
identity	IN	A	172.18.30.166
image	IN	A	172.18.30.166
key-manager	IN	A	172.18.30.166
load-balancer	IN	A	172.18.30.166
network	IN	A	172.18.30.166
novncproxy	IN	A	172.18.30.166
orchestration	IN	A	172.18.30.166
placement	IN	A	172.18.30.166
