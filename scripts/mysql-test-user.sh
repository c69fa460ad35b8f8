#!/usr/bin/env bash
# Makes the MySQL/MariaDB user the tests need, with no more rights than that: everything on the
# databases named b2b_test_* (each test makes its own and drops it when it passes), nothing else.
# No database has to exist beforehand (stock MySQL 8 has no `test` schema). Prints the
# TEST_MYSQL_URL to use.
#
#   scripts/mysql-test-user.sh                          # as root on 127.0.0.1 with no password
#   scripts/mysql-test-user.sh -uadmin -p -hdb.local    # any mysql client options of an admin
#
# TEST_MYSQL_USER / TEST_MYSQL_PASSWORD (default b2b_test / b2b_test_pw) name the user it makes.
set -euo pipefail
user="${TEST_MYSQL_USER:-b2b_test}"
password="${TEST_MYSQL_PASSWORD:-b2b_test_pw}"
[ $# -gt 0 ] || set -- -uroot -h127.0.0.1
mysql "$@" <<SQL
CREATE USER IF NOT EXISTS '$user'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`b2b\\_test\\_%\`.* TO '$user'@'%';
SQL
host=127.0.0.1
for arg in "$@"; do [[ "$arg" == -h?* ]] && host="${arg#-h}"; done
echo "TEST_MYSQL_URL=mysql://$user:$password@$host:3306"
