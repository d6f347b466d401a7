#!/usr/bin/env bash
# Makes the test-only certificates of the GSK tests with openssl (nothing here is a secret worth
# keeping: every key is generated fresh, at test time, into the folder given).
#   tests/gsk_certs.sh DIR
# DIR gets:
#   ca.crt                  the test CA (the only authority the tests trust)
#   ca.pem                  client keyring: the CA alone
#   server.pem              server keyring: localhost certificate (DNS:localhost, IP:127.0.0.1),
#                           the CA, the key; server.crt/server.key the same for openssl s_server
#   client.pem              client keyring with a client certificate: certificate, CA, key
#   expired.pem             server keyring whose certificate expired in 2021 (CA-signed)
#   untrusted.pem           server keyring with a self-signed certificate (not from the CA)
#   nokey.pem               the server certificate without its key
#   notpem.pem              a file that is not PEM
#   appid/QSOASYNC_TEST.pem an application id's file (a copy of server.pem)
set -eu
DIR=${1:?usage: tests/gsk_certs.sh DIR}
mkdir -p "$DIR/appid"
cd "$DIR"
export OPENSSL_CONF=/dev/null # no system defaults leak into the certificates

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# The CA.
newkey ca.key
openssl req -x509 -new -key ca.key -subj "/CN=qsoasync test CA" -days 30 -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.crt 2>/dev/null

cat >leaf.ext <<'X'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
X

# leaf NAME CN: a CA-signed certificate valid for 30 days.
leaf() {
  newkey "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 \
    -extfile leaf.ext -out "$1.crt" 2>/dev/null
}
leaf server localhost
leaf client "qsoasync test client"

# An expired certificate: openssl ca accepts explicit start and end dates.
newkey expired.key
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr 2>/dev/null
mkdir -p ca-db
: >ca-db/index.txt
echo 1000 >ca-db/serial
cat >ca.cnf <<X
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $PWD/ca-db/index.txt
new_certs_dir = $PWD/ca-db
serial = $PWD/ca-db/serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
X
openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr \
  -startdate 20200101000000Z -enddate 20210101000000Z -extfile leaf.ext -notext \
  -out expired.crt 2>/dev/null

# A self-signed certificate no keyring of the tests trusts.
newkey untrusted.key
openssl req -x509 -new -key untrusted.key -subj "/CN=localhost" -days 30 -sha256 \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out untrusted.crt 2>/dev/null

cp ca.crt ca.pem
cat server.crt ca.crt server.key >server.pem
cat client.crt ca.crt client.key >client.pem
cat expired.crt ca.crt expired.key >expired.pem
cat untrusted.crt untrusted.key >untrusted.pem
cat server.crt >nokey.pem
echo "this is not a PEM keyring" >notpem.pem
cp server.pem appid/QSOASYNC_TEST.pem
echo "gsk-certs: test certificates in $DIR"
