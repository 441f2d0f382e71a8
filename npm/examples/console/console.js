// The operator console: verifies a pasted token (or delegation chain) in the
// page, with the same .wasm the gateway runs, and shows what it grants.
// Plain ES module, no framework, no build step. Every decision comes from
// `verify`; this file only gathers inputs and draws the answer.
import {
  init, verify, authorize, verifyRevocationList, verifyStatusList, decodeUnverified, CaptokenError, moduleSha256,
} from '../../browser.js';

const $ = (id) => document.getElementById(id);
let expiryTimer = null;

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A problem with what the operator typed, as opposed to a verdict. */
class InputError extends Error {}

async function readJwks() {
  const url = $('jwks-url').value.trim();
  if (url) {
    let response;
    try {
      response = await fetch(url, { headers: { accept: 'application/json' } });
    } catch (err) {
      throw new InputError(`could not fetch the JWKS from ${url}: ${err.message}`);
    }
    if (!response.ok) throw new InputError(`could not fetch the JWKS from ${url}: HTTP ${response.status}`);
    try {
      return await response.json();
    } catch {
      throw new InputError(`the JWKS at ${url} is not JSON`);
    }
  }
  const text = $('jwks').value.trim();
  if (!text) throw new InputError('paste the issuer\'s JWKS or give its URL');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`the pasted JWKS is not JSON: ${err.message}`);
  }
}

function showVerdict(kind, headline, message) {
  const box = $('verdict');
  box.className = kind;
  box.replaceChildren(element('div', {}, ...headline));
  if (message) box.append(element('div', { class: 'message' }, message));
  box.hidden = false;
}

function formatDuration(seconds) {
  const s = Math.abs(seconds);
  const parts = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']];
  const shown = parts.filter(([n], i) => n > 0 || i === parts.length - 1);
  return shown.map(([n, unit]) => `${n}${unit}`).join(' ');
}

function showExpiry(exp) {
  clearInterval(expiryTimer);
  const tick = () => {
    const left = exp - Math.floor(Date.now() / 1000);
    $('expiry').textContent = left > 0
      ? `expires in ${formatDuration(left)} (at ${new Date(exp * 1000).toISOString()})`
      : `expired ${formatDuration(left)} ago (at ${new Date(exp * 1000).toISOString()})`;
  };
  tick();
  expiryTimer = setInterval(tick, 1000);
}

function showChain(verified) {
  const { chain, claims, header, depth, root_sub: rootSub } = verified;
  // `chain` lists the ancestors root first; the presented token is the leaf.
  const links = [...chain, { sub: claims.sub, id: verified.id, kid: header.kid }];
  const last = links.length - 1;
  const role = (i) => {
    if (i === 0) return last === 0 ? 'issued by the issuer' : 'root: issued by the issuer';
    return i === last ? 'leaf: presented' : 'delegated';
  };
  $('chain').replaceChildren(...links.flatMap((link, i) => [
    ...(i > 0 ? [element('li', { class: 'arrow', 'aria-hidden': 'true' }, '→')] : []),
    element('li', { class: i === last ? 'link leaf' : 'link' },
      element('div', { class: 'role' }, role(i)),
      element('div', { class: 'sub' }, link.sub),
      element('div', { class: 'id' }, `id ${link.id}`),
      element('div', { class: 'id' }, `signed by kid ${link.kid}`)),
  ]));
  $('depth').textContent = depth === 0 ? '(no delegation)' : `(depth ${depth}; the issuer vouched for ${rootSub})`;
}

function showCaps(caps) {
  const list = (values) => values.join(', ');
  $('caps').tBodies[0].replaceChildren(...caps.map((cap, i) => element('tr', {},
    element('td', {}, String(i)),
    element('td', {}, list(cap.actions)),
    element('td', {}, list(cap.resources)),
    element('td', {}, cap.constraints
      ? Object.entries(cap.constraints).map(([kind, value]) => `${kind}: ${JSON.stringify(value)}`).join('; ')
      : '(none)'))));
}

/**
 * The token field: a token or chain, or a gateway's JSON answer pasted
 * whole (`POST /v1/tokens`, a grant): its `token` is read. A pasted
 * refusal is said to be one, never blamed on a token.
 */
function readToken() {
  const text = $('token').value.trim();
  if (!text) throw new InputError('paste a token, a delegation chain or a gateway answer holding one');
  if (!text.startsWith('{')) return { token: text, note: null };
  let answer;
  try {
    answer = JSON.parse(text);
  } catch (err) {
    throw new InputError(`the pasted text starts like JSON but is not: ${err.message}`);
  }
  if (typeof answer?.token === 'string') {
    return { token: answer.token.trim(), note: 'the token was read from the pasted gateway answer' };
  }
  if (typeof answer?.error === 'string') {
    throw new InputError(`this is a gateway's refusal, not a token: ${answer.error}: ${answer.reason ?? ''}`);
  }
  throw new InputError('the pasted JSON has no `token` member');
}

/** `url`'s JSON body, or an input problem naming `what`. */
async function fetchJson(url, what) {
  let response;
  try {
    // Revocations are the point: never an earlier copy from the cache.
    response = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-cache' });
  } catch (err) {
    throw new InputError(`could not fetch ${what} from ${url}: ${err.message}`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new InputError(`${what} at ${url} is not JSON (HTTP ${response.status})`);
  }
  if (!response.ok) {
    throw new InputError(`${url} refused ${what}: HTTP ${response.status} ${body.error ?? ''} ${body.reason ?? ''}`);
  }
  return body;
}

/** The "as of" time in epoch seconds, or `undefined` for now. */
function readAsOf() {
  const text = $('as-of').value.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new InputError(`"as of" must be a date and time (2026-12-04T19:00:00Z) or epoch seconds, not ${text}`);
  return Math.floor(ms / 1000);
}

/** The authorize form: `{action, resource, context?}`, or `null` when empty. */
function readRequest() {
  const action = $('action').value.trim();
  const resource = $('resource').value.trim();
  const context = $('context').value.trim();
  if (!action && !resource && !context) return null;
  if (!action || !resource) throw new InputError('to authorize, give both an action and a resource');
  if (!context) return { action, resource };
  try {
    return { action, resource, context: JSON.parse(context) };
  } catch (err) {
    throw new InputError(`the context is not JSON: ${err.message}`);
  }
}

/**
 * Which link of a refused chain is refused: the module verifies the chain
 * from its root down, one link more each time, until one fails. Shows that
 * link (counted from the root, which is link 0) and the module's reason.
 */
function showRefusedLink(token, options) {
  const parts = token.split('~');
  if (parts.length < 2) return;
  for (let k = 1; k <= parts.length; k++) {
    const suffix = parts.slice(parts.length - k).join('~');
    try {
      verify({ ...options, token: suffix });
    } catch (err) {
      if (!(err instanceof CaptokenError)) return;
      let sub = '?';
      try {
        sub = String(decodeUnverified(suffix).claims.sub ?? '?');
      } catch { /* an undecodable link: its position says enough */ }
      const link = k - 1;
      const line = $('chain-refusal');
      line.replaceChildren(
        `link ${link} of ${parts.length - 1} below the root (${link === 0 ? 'the root' : `delegated to ${sub}`}) is refused: `,
        element('code', {}, err.code),
        err.path ? ` at ${err.path}` : '',
        ` — ${err.message}`,
      );
      line.hidden = false;
      return;
    }
  }
}

/** Whether `url` is on the origin of `base` (false for what is not a URL). */
function sameOrigin(url, base) {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/** The gateway the page reads from (its URL, no trailing slash), if set. */
function gatewayUrl() {
  return $('gateway').value.trim().replace(/\/+$/, '');
}

function listLine(id, text, stale) {
  const line = $(id);
  line.className = stale ? 'stale' : '';
  line.textContent = text;
  line.hidden = false;
}

async function onVerify(event) {
  event.preventDefault();
  clearInterval(expiryTimer);
  $('details').hidden = true;
  $('list-status').hidden = true;
  $('status-list-status').hidden = true;
  $('token-note').hidden = true;
  $('as-of-note').hidden = true;
  $('chain-refusal').hidden = true;
  $('authorization').hidden = true;
  let trust = null;
  const revoked = $('revoked').value.split(/[\s,]+/).filter(Boolean);
  try {
    const { token, note } = readToken();
    if (note) {
      $('token-note').textContent = note;
      $('token-note').hidden = false;
    }
    const now = readAsOf();
    // Passed only when given: absent, every check uses the clock.
    const at = now === undefined ? {} : { now };
    const asked = readRequest();
    if (now !== undefined) {
      $('as-of-note').textContent = `decided as of ${new Date(now * 1000).toISOString()}, not now`;
      $('as-of-note').hidden = false;
    }
    const gateway = gatewayUrl();
    // Pasted or typed inputs win; a gateway fills in the rest.
    const jwks = $('jwks-url').value.trim() || $('jwks').value.trim() || !gateway
      ? await readJwks()
      : await fetchJson(`${gateway}/.well-known/jwks.json`, 'the key set');
    const issuer = $('issuer').value.trim();
    let revocationList = $('revocation-list').value.trim();
    if (!revocationList && gateway) {
      revocationList = (await fetchJson(`${gateway}/v1/revocations`, 'the signed revocation list')).list;
    }
    // The list the token names (the root's place, which a delegated token
    // carries), pasted or fetched from the URI the token names.
    const place = decodeUnverified(token).claims.status?.status_list;
    let statusList = $('status-list').value.trim();
    if (!statusList && gateway && typeof place?.uri === 'string') {
      // The URI comes from a token not verified yet: fetched only from the
      // gateway the operator named, never from wherever a token points.
      // Elsewhere, the verdict says a list is missing (or the key unknown).
      if (sameOrigin(place.uri, gateway)) {
        statusList = (await fetchJson(place.uri, 'the token\'s status list')).list;
      } else {
        listLine('status-list-status', `status list: the token names ${place.uri}, not on ${gateway}; ` +
          'not fetched (paste it to check the token against it)', false);
      }
    }
    let stale = false;
    if (revocationList) {
      // Checked on its own first, so a stale list is shown as such; the
      // operator then sees the verdict against it anyway.
      const list = verifyRevocationList({ list: revocationList, jwks, issuer, ...at });
      stale ||= list.status === 'stale';
      listLine('list-status', `revocation list #${list.seq}: ${list.status}` +
        (list.status === 'stale' ? ` since ${new Date(list.stale_since * 1000).toISOString()}` : '') +
        `, ${list.revoked.length} revoked, next update ${new Date(list.next_update * 1000).toISOString()}`,
      list.status === 'stale');
    }
    if (statusList) {
      if (place && typeof place.uri === 'string') {
        const list = verifyStatusList({ list: statusList, jwks, issuer, uri: place.uri, idx: place.idx, ...at });
        stale ||= list.status === 'stale';
        listLine('status-list-status', `status list ${list.sub}: ${list.status}` +
          (list.status === 'stale' ? ` since ${new Date(list.stale_since * 1000).toISOString()}` : '') +
          `, ${list.revoked_count} of ${list.size} revoked, this token's bit #${place.idx} ${list.revoked ? 'set' : 'clear'}`,
        list.status === 'stale');
      } else {
        listLine('status-list-status', 'status list: the token names none; the list is not used', false);
      }
    }
    trust = {
      token,
      jwks,
      issuer,
      audience: $('audience').value.trim(),
      revoked,
      ...at,
      ...(revocationList ? { revocationList } : {}),
      ...(statusList ? { statusList } : {}),
      // A stale list still says what it revoked: use it, flagged, for up
      // to a week past its next update.
      ...(revocationList || statusList ? { maxStale: 7 * 86400 } : {}),
    };
    const verified = verify(trust);
    if (asked) {
      const line = $('authorization');
      try {
        const allowed = authorize({ ...trust, request: asked });
        line.className = 'allowed';
        line.replaceChildren(`✔ ${asked.action} on ${asked.resource}: allowed by capability #${allowed.cap_index}`);
      } catch (err) {
        if (!(err instanceof CaptokenError)) throw err;
        line.className = 'denied';
        line.replaceChildren(`✘ ${asked.action} on ${asked.resource}: `, element('code', { id: 'authorize-code' }, err.code),
          err.path ? element('span', {}, ' at ', element('code', { id: 'authorize-path' }, err.path)) : '', ` — ${err.message}`);
      }
      line.hidden = false;
    }
    const { claims, depth } = verified;
    // Never a plain "valid" that was not checked against revocations.
    const checked = revoked.length > 0 || Boolean(revocationList) || (Boolean(statusList) && Boolean(place));
    const [kind, label] = !checked
      ? ['unchecked', '✔ valid, revocation not checked: ']
      : stale ? ['stale', '✔ valid against a stale revocation list: '] : ['valid', '✔ valid: '];
    showVerdict(kind, [label, element('code', {}, claims.sub), depth > 0 ? ` (delegated, depth ${depth}, from ${verified.root_sub})` : '',
      verified.bearer ? ' — a bearer token: whoever holds its text may use it' : ''],
      `may use ${claims.caps.length} capabilit${claims.caps.length === 1 ? 'y' : 'ies'}`);
    showExpiry(claims.exp);
    showChain(verified);
    showCaps(claims.caps);
    $('claims').textContent = JSON.stringify(claims, null, 2);
    $('details').hidden = false;
  } catch (err) {
    if (err instanceof CaptokenError) {
      showVerdict('refused', ['✘ refused: ', element('code', { id: 'code' }, err.code)], err.message);
      if (trust) showRefusedLink(trust.token, trust);
    } else if (err instanceof InputError) {
      showVerdict('input', ['input problem'], err.message);
    } else {
      showVerdict('input', ['unexpected error'], String(err));
      throw err;
    }
  }
}

/**
 * Served by a gateway (`GET /console`), the page finds `gateway.json`
 * beside it: it reads from that gateway, its own origin, unless told
 * another. Opened from the package, there is none, and nothing changes.
 */
async function whereServed() {
  let about;
  try {
    const response = await fetch('./gateway.json', { headers: { accept: 'application/json' } });
    if (!response.ok) return;
    about = await response.json();
  } catch {
    return;
  }
  if (!$('gateway').value) $('gateway').value = location.origin;
  if (!$('issuer').value && typeof about.issuer === 'string') $('issuer').value = about.issuer;
  if (!$('audience').value && typeof about.audience === 'string') $('audience').value = about.audience;
  document.body.dataset.gateway = 'served';
}

$('form').addEventListener('submit', onVerify);
$('verify').disabled = true;
Promise.all([init(), whereServed()]).then(
  () => {
    $('module').textContent = `captoken module sha256 ${moduleSha256}`;
    $('verify').disabled = false;
    document.body.dataset.ready = 'true';
  },
  (err) => {
    $('module').textContent = `the captoken module did not load: ${err.code ?? ''} ${err.message}`;
    document.body.dataset.ready = 'failed';
  },
);
