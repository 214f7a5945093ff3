/** Maps a Node socket/TLS error to a bounded reason; anything unknown is "network". */
export function classifyNetworkError(err: unknown): string {
  const code = errorCode(err);
  if (code === undefined) return 'network';
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return 'dns';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return 'reset';
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'unreachable';
    case 'EPROTO':
      return 'tls';
  }
  if (
    /^(ERR_TLS_|ERR_SSL_|CERT_)/.test(code) ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/.test(code)
  ) {
    return 'tls';
  }
  return 'network';
}

function errorCode(err: unknown): string | undefined {
  // fetch-style errors wrap the socket error in `cause`; look one level down too.
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 3; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
