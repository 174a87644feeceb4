# Baseline for bench/parse/run.sh: awk splitting a pf log line into the same nine fields
# as bench/parse/pf_regex.py and `secviz parse --fields time,rule,action,direction,
# interface,src_ip,src_port,dst_ip,dst_port`, printed as CSV.
# pf line: Oct 21 06:00:18.025482 rule 57/0(match): pass in on xl1: 1.2.3.4.5 > 6.7.8.9.53: ...
BEGIN { OFS = "," }
{
  rule = $5; sub(/\(.*/, "", rule)
  iface = $9; sub(/:$/, "", iface)
  dst = $12; sub(/:$/, "", dst)
  sip = $10; sport = ""
  if (split($10, s, ".") == 5) { sip = s[1] "." s[2] "." s[3] "." s[4]; sport = s[5] }
  dip = dst; dport = ""
  if (split(dst, d, ".") == 5) { dip = d[1] "." d[2] "." d[3] "." d[4]; dport = d[5] }
  print $1 " " $2 " " $3, rule, $6, $7, iface, sip, sport, dip, dport
}
