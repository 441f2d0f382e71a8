// The operator console: verifies a pasted token (or delegation chain) in the
// page, with the same .wasm the gateway runs, and shows what it grants.
// Plain ES module, no framework, no build step. Every decision comes from
// `verify`; this file only gathers inputs and draws the answer.
import {
  init, verify, verifyRevocationList, verifyStatusList, decodeUnverified, CaptokenError, moduleSha256,
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

async function onVerify(event) {
  event.preventDefault();
  clearInterval(expiryTimer);
  $('details').hidden = true;
  $('list-status').hidden = true;
  $('status-list-status').hidden = true;
  const statusList = $('status-list').value.trim();
  const revoked = $('revoked').value.split(/[\s,]+/).filter(Boolean);
  const revocationList = $('revocation-list').value.trim();
  try {
    const jwks = await readJwks();
    const issuer = $('issuer').value.trim();
    if (revocationList) {
      // Checked on its own first, so a stale list is shown as such; the
      // operator then sees the verdict against it anyway.
      const list = verifyRevocationList({ list: revocationList, jwks, issuer });
      const status = $('list-status');
      status.className = list.status;
      status.textContent = `revocation list #${list.seq}: ${list.status}` +
        (list.status === 'stale' ? ` since ${new Date(list.stale_since * 1000).toISOString()}` : '') +
        `, ${list.revoked.length} revoked, next update ${new Date(list.next_update * 1000).toISOString()}`;
      status.hidden = false;
    }
    if (statusList) {
      // The list the token names (the root's place, which a delegated
      // token carries), checked on its own first, like the id list.
      const place = decodeUnverified($('token').value.trim()).claims.status?.status_list;
      const shown = $('status-list-status');
      if (place && typeof place.uri === 'string') {
        const list = verifyStatusList({ list: statusList, jwks, issuer, uri: place.uri, idx: place.idx });
        shown.className = list.status;
        shown.textContent = `status list ${list.sub}: ${list.status}` +
          (list.status === 'stale' ? ` since ${new Date(list.stale_since * 1000).toISOString()}` : '') +
          `, ${list.revoked_count} of ${list.size} revoked, this token's bit #${place.idx} ${list.revoked ? 'set' : 'clear'}`;
      } else {
        shown.className = '';
        shown.textContent = 'status list: the token names none; the list is not used';
      }
      shown.hidden = false;
    }
    const verified = verify({
      token: $('token').value.trim(),
      jwks,
      issuer,
      audience: $('audience').value.trim(),
      revoked,
      // A stale list still says what it revoked: use it, flagged above, for
      // up to a week past its next update.
      ...(revocationList ? { revocationList } : {}),
      ...(statusList ? { statusList } : {}),
      ...(revocationList || statusList ? { maxStale: 7 * 86400 } : {}),
    });
    const { claims, depth } = verified;
    showVerdict('valid', ['✔ valid: ', element('code', {}, claims.sub), depth > 0 ? ` (delegated, depth ${depth}, from ${verified.root_sub})` : ''],
      `may use ${claims.caps.length} capabilit${claims.caps.length === 1 ? 'y' : 'ies'}`);
    showExpiry(claims.exp);
    showChain(verified);
    showCaps(claims.caps);
    $('claims').textContent = JSON.stringify(claims, null, 2);
    $('details').hidden = false;
  } catch (err) {
    if (err instanceof CaptokenError) {
      showVerdict('refused', ['✘ refused: ', element('code', { id: 'code' }, err.code)], err.message);
    } else if (err instanceof InputError) {
      showVerdict('input', ['input problem'], err.message);
    } else {
      showVerdict('input', ['unexpected error'], String(err));
      throw err;
    }
  }
}

$('form').addEventListener('submit', onVerify);
$('verify').disabled = true;
init().then(
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
