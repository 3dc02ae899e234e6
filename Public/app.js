fetch('/healthz').then(r => r.json()).then(j => {
  document.getElementById('status').textContent = j.status === 'ok' ? '正常' : '异常';
}).catch(() => { document.getElementById('status').textContent = '无法连接'; });
