"""The Python side of the interop tests (host/tests/gateway/interop.rs):
PyJWT with cryptography, asked to verify or sign one token. One JSON command
on stdin, one JSON answer on stdout; a refusal is {"refused": message}.

  verify  {jwks_url | jwks, token, issuer, audience} -> {header, payload}
  sign    {private_jwk, header, claims}               -> {token}

Runs in the virtual environment scripts/setup.sh makes from
tests/interop/requirements.txt.
"""

import json
import sys

import jwt


def verify(c):
    header = jwt.get_unverified_header(c["token"])
    if "jwks_url" in c:
        # What a Python service verifying gateway tokens would use: the
        # gateway's /.well-known/jwks.json, fetched and matched by kid.
        key = jwt.PyJWKClient(c["jwks_url"]).get_signing_key_from_jwt(c["token"])
    else:
        key = jwt.PyJWKSet.from_dict(c["jwks"])[header["kid"]]
    if header.get("typ") != "captoken+jwt":
        raise jwt.InvalidTokenError(f"typ is {header.get('typ')!r}, not captoken+jwt")
    payload = jwt.decode(
        c["token"],
        key,
        algorithms=["EdDSA"],
        audience=c["audience"],
        issuer=c["issuer"],
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "jti", "sub"]},
    )
    return {"header": header, "payload": payload}


def sign(c):
    key = jwt.PyJWK(c["private_jwk"], algorithm="EdDSA")
    return {"token": jwt.encode(c["claims"], key, algorithm="EdDSA", headers=c["header"])}


def main():
    command = json.load(sys.stdin)
    run = {"verify": verify, "sign": sign}[command["do"]]
    try:
        answer = run(command)
    except jwt.PyJWTError as err:
        answer = {"refused": f"{type(err).__name__}: {err}"}
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
