#!/bin/bash
# m1.sh PORT PID: 1 client, 6000 requests; perf stat of PID
PORT=$1; P=$2
perf stat -e context-switches,task-clock -p $P -o one.stat -- sleep 100 &
SP=$!
sleep 0.2
N=6000 /tmp/abgen http://127.0.0.1:$PORT/vapi
kill -INT $SP; wait $SP 2>/dev/null
python3 - <<'PY'
import re
t=open('one.stat').read()
cs=float(re.search(r'([\d,]+)\s+context-switches',t).group(1).replace(',',''))
tc=float(re.search(r'([\d,.]+)\s+msec task-clock',t).group(1).replace(',',''))
print(f"   cs/req {cs/6200:.2f} cpu µs/req {tc*1000/6200:.1f}")
PY
