#!/bin/sh
# New-AutoReplyCorpus.sh - regenerates tests/fixtures/corpus-generated: auto-replies, bounces and delay warnings made by
# real mail software on this machine, plus hand-written hard human replies, with labels.tsv (file, class, source, note;
# the format of the shared public corpus, so tests/Measure-Classification.ps1 -CorpusPath reads it).
#
# A MANUAL step: the test suite reads the committed messages and needs none of these programs. To regenerate
# (Debian 12, as root; about 15 s):
#   apt-get install -y --no-install-recommends dovecot-core dovecot-sieve vacation procmail maildrop libidn12
#   tests/Corpus/New-AutoReplyCorpus.sh            # writes tests/fixtures/corpus-generated
# Exim is NOT installed (exim4-daemon-light would replace Postfix as the system MTA): the script fetches the package
# with `apt-get download` and unpacks it with `dpkg -x` into a temporary folder; it runs from there, only from the
# command line (-odi / -bs on stdin, no listening port), with its own spool and configuration, and the Debian-exim
# user it looks up exists only in a private mount namespace (unshare -m with a copied /etc/passwd). The installed
# Postfix is not touched. Programs that call /usr/sbin/sendmail by a fixed path (vacation) run in a mount namespace
# where that path is a capture script; the others are given the capture script as their sendmail.
#
# What is captured is what the program handed to sendmail; the capture script adds the Return-Path that final
# delivery records from the envelope sender (a bare login is qualified with @kunde.example as an MTA would).
# Dates and Message-IDs differ between runs; the classification does not depend on them.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-"$here/../fixtures/corpus-generated"}
work=$(mktemp -d /tmp/autoreply-corpus.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"
rm -rf "$dest"/sieve "$dest"/vacation "$dest"/procmail "$dest"/mailbot "$dest"/exim "$dest"/human
labels="$dest/labels.tsv"
printf 'file\tclass\tsource\tnote\n' > "$labels"

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing program $1 (see the header of this script)" >&2; exit 1; }; }
need sieve-test; need vacation; need procmail; need formail; need mailbot; need unshare

# ---- capture script: stands in for sendmail -------------------------------------------------------------------
cat > "$work/sendmail" <<'EOF'
#!/bin/sh
sender=""
while [ $# -gt 0 ]; do
  case "$1" in
    -f) sender="${2:-}"; [ $# -gt 1 ] && shift;;
    -f*) sender="${1#-f}";;
  esac
  shift
done
sender=$(printf '%s' "$sender" | tr -d '<>')
case "$sender" in ""|*@*) ;; *) sender="$sender@kunde.example";; esac
f=$(mktemp "$CAPTURE_DIR/out.XXXXXX")
printf 'Return-Path: <%s>\n' "$sender" > "$f"
cat >> "$f"
EOF
mkdir -p "$work/out"; chmod 777 "$work/out"
# The folder is written into the script: Dovecot and procmail start it with a cleared environment.
sed -i "s|\$CAPTURE_DIR|$work/out|" "$work/sendmail"
chmod 755 "$work/sendmail"

# take FILE CLASS SOURCE NOTE: moves the one captured message to the corpus under FILE
take() {
  # vacation(1) and procmail hand the reply to a child process that may still be writing: wait for it.
  i=0; while [ "$(ls "$work/out" | wc -l)" -eq 0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  sleep 0.2
  n=$(ls "$work/out" | wc -l)
  if [ "$n" -ne 1 ]; then echo "expected one captured message for $1, got $n" >&2; ls -l "$work/out" >&2; exit 1; fi
  mkdir -p "$dest/${1%%-*}"
  mv "$work/out"/out.* "$dest/${1%%-*}/$1"
  printf '%s\t%s\t%s\t%s\n' "${1%%-*}/$1" "$2" "$3" "$4" >> "$labels"
}

# ---- the campaign messages that are answered -----------------------------------------------------------------
campaign() { # campaign RECIPIENT SUBJECT [mbox]
  [ "${3:-}" = mbox ] && echo "From news@campaign.example Tue Mar 12 09:00:00 2024"
  cat <<EOF
Return-Path: <news@campaign.example>
From: Newsletter <news@campaign.example>
To: <$1>
Subject: $2
Message-ID: <campaign-$(date +%s%N)@campaign.example>
Date: Tue, 12 Mar 2024 09:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Unser Frühjahrsangebot / our spring offer.
EOF
}

# ---- 1. Dovecot Pigeonhole Sieve vacation and reject, through dovecot-lda -------------------------------------
mkdir -p "$work/sieve/home"; chmod -R 777 "$work/sieve"
cat > "$work/sieve/dovecot.conf" <<EOF
mail_uid = nobody
mail_gid = nogroup
sendmail_path = $work/sendmail
postmaster_address = postmaster@kunde.example
hostname = mx.kunde.example
base_dir = $work/sieve/run
state_dir = $work/sieve/state
mail_location = maildir:$work/sieve/home/Maildir
log_path = /dev/null
protocols =
ssl = no
protocol lda {
  mail_plugins = sieve
}
plugin {
  sieve = file:$work/sieve/scripts;active=$work/sieve/active.sieve
}
EOF
chmod 644 "$work/sieve/dovecot.conf"
sieve() { # sieve NAME CLASS NOTE SUBJECT  (script on stdin)
  cat > "$work/sieve/active.sieve"; chmod 644 "$work/sieve/active.sieve"
  rm -rf "$work/sieve/home/"* "$work/sieve/scripts" 2>/dev/null || true
  campaign anna@kunde.example "$4" | runuser -u nobody -- env HOME="$work/sieve/home" \
    /usr/lib/dovecot/dovecot-lda -c "$work/sieve/dovecot.conf" -f news@campaign.example -a anna@kunde.example >/dev/null 2>&1 || true
  take "$1" "$2" "dovecot-sieve (Pigeonhole 0.5, dovecot-lda)" "$3"
}
sieve sieve-vacation-default-subject-de.eml auto-reply 'vacation without :subject (Pigeonhole default "Auto: <subject>"), German text' 'Frühjahrsangebot 2024' <<'EOF'
require ["vacation"];
vacation :days 1 :addresses ["anna@kunde.example"] "Ich bin bis zum 20. März im Urlaub und habe keinen Zugriff auf meine E-Mails.";
EOF
sieve sieve-vacation-subject-en.eml auto-reply 'vacation :subject "Out of Office", English' 'Spring offer' <<'EOF'
require ["vacation"];
vacation :days 1 :subject "Out of Office" :addresses ["anna@kunde.example"] "I am out of the office until 20 March with limited access to e-mail.";
EOF
sieve sieve-vacation-subject-fr.eml auto-reply 'vacation :subject "Absent du bureau", French' 'Offre de printemps' <<'EOF'
require ["vacation"];
vacation :days 1 :subject "Absent du bureau jusqu'au 20 mars" :addresses ["anna@kunde.example"] "Bonjour, je suis absente du bureau jusqu'au 20 mars. Cordialement, Anna";
EOF
sieve sieve-vacation-subject-nl.eml auto-reply 'vacation :subject "Afwezig", Dutch' 'Voorjaarsaanbieding' <<'EOF'
require ["vacation"];
vacation :days 1 :subject "Afwezig" :addresses ["anna@kunde.example"] "Ik ben afwezig tot en met 20 maart en lees mijn e-mail niet.";
EOF
sieve sieve-vacation-subject-es.eml auto-reply 'vacation :subject "Fuera de la oficina", Spanish' 'Oferta de primavera' <<'EOF'
require ["vacation"];
vacation :days 1 :subject "Fuera de la oficina" :addresses ["anna@kunde.example"] "Estoy fuera de la oficina hasta el 20 de marzo.";
EOF
sieve sieve-vacation-subject-pl.eml auto-reply 'vacation :subject "Nieobecność", Polish' 'Oferta wiosenna' <<'EOF'
require ["vacation"];
vacation :days 1 :subject "Nieobecność w biurze" :addresses ["anna@kunde.example"] "Jestem poza biurem do 20 marca.";
EOF
sieve sieve-vacation-acknowledgement-en.eml auto-reply 'vacation used as an auto-acknowledgement, own subject' 'Question about my order' <<'EOF'
require ["vacation"];
vacation :days 1 :subject "We received your message" :addresses ["anna@kunde.example"] "Thank you for contacting us. We will answer within 24 hours.";
EOF
sieve sieve-reject-de.eml bounce 'Sieve reject (RFC 5429): an MDN with disposition "deleted", the message was refused' 'Frühjahrsangebot 2024' <<'EOF'
require ["reject"];
reject "Diese Adresse nimmt keine Werbung an.";
EOF

# ---- 2. Debian vacation(1): the reply is the user's .vacation.msg, sent through /usr/sbin/sendmail ------------------
vac() { # vac NAME NOTE SUBJECT (message template on stdin)
  cat > "$work/vacation.msg"
  rm -f "$work/vacation.db"*
  campaign anna@kunde.example "$3" mbox > "$work/in.eml"
  unshare -m sh -c "mount --bind '$work/sendmail' /usr/sbin/sendmail && vacation -i -f '$work/vacation.db' -m '$work/vacation.msg' nobody && vacation -f '$work/vacation.db' -m '$work/vacation.msg' -a anna nobody < '$work/in.eml'"
  take "$1" auto-reply "vacation (Debian vacation 3.3)" "$2"
}
vac vacation-manpage-en.eml 'the man page template: "I am on vacation", Precedence: bulk, no Auto-Submitted' 'Spring offer' <<'EOF'
From: Anna Berger <anna@kunde.example>
Subject: I am on vacation
Delivered-By-The-Graces-Of: The Vacation program
Precedence: bulk

I am on vacation until March 20.  If you have something urgent,
please contact Keith <keith@kunde.example>.
--Anna
EOF
vac vacation-de-urlaub.eml 'German template "Urlaub bis 20. März", Precedence: bulk' 'Frühjahrsangebot 2024' <<'EOF'
From: Anna Berger <anna@kunde.example>
Subject: Urlaub bis 20. März
Precedence: bulk
Content-Type: text/plain; charset=utf-8

Guten Tag,

ich bin bis zum 20. März im Urlaub. Ihre Nachricht wird nicht weitergeleitet.
In dringenden Fällen wenden Sie sich bitte an info@kunde.example.

Anna Berger
EOF
vac vacation-subject-variable-fr.eml 'French template with $SUBJECT, Precedence: bulk' 'Offre de printemps' <<'EOF'
From: Anna Berger <anna@kunde.example>
Subject: Re: $SUBJECT (absente)
Precedence: bulk
Content-Type: text/plain; charset=utf-8

Bonjour,
je suis absente du bureau jusqu'au 20 mars et je n'ai pas accès à ma messagerie.
Anna
EOF
vac vacation-no-precedence-de.eml 'German template without Precedence (only subject and text say it)' 'Frühjahrsangebot 2024' <<'EOF'
From: Anna Berger <anna@kunde.example>
Subject: Abwesenheitsnotiz
Content-Type: text/plain; charset=utf-8

Vielen Dank für Ihre Nachricht. Ich bin bis einschließlich 20. März nicht im Büro.
EOF
vac vacation-away-en.eml 'man page default subject "away from my mail", Precedence: junk' 'Spring offer' <<'EOF'
From: anna@kunde.example
Subject: away from my mail
Precedence: junk

I will not be reading my mail for a while. Your mail concerning "$SUBJECT" will be read when I'm back.
EOF
vac vacation-sv.eml 'Swedish template "Frånvaro", Precedence: bulk' 'Vårerbjudande' <<'EOF'
From: Anna Berger <anna@kunde.example>
Subject: Frånvaro
Precedence: bulk
Content-Type: text/plain; charset=utf-8

Jag är ledig till och med den 20 mars och läser inte min e-post.
EOF

# ---- 3. procmail + formail autoresponder (the procmailex(5) recipe) -----------------------------------------------
pm() { # pm NAME NOTE SUBJECT FORMAIL-OPTIONS (reply text on stdin)
  cat > "$work/reply.txt"
  rm -f "$work/vacation.cache" "$work/vacation.lock"
  cat > "$work/procmailrc" <<EOF
SHELL=/bin/sh
SENDMAIL=$work/sendmail
DEFAULT=/dev/null
LOGFILE=/dev/null
:0 Whc: $work/vacation.lock
* !^FROM_DAEMON
* !^X-Loop: anna@kunde.example
| formail -rD 8192 $work/vacation.cache
:0 ehc
| (formail -r $4 -A"X-Loop: anna@kunde.example" ; cat $work/reply.txt) | \$SENDMAIL -oi -t -f anna@kunde.example
EOF
  campaign anna@kunde.example "$3" mbox | procmail -m "$work/procmailrc"
  take "$1" auto-reply "procmail 3.24 + formail" "$2"
}
pm procmail-junk-xloop-de.eml 'procmailex recipe: Precedence: junk, X-Loop, "Re:" subject, German text' 'Frühjahrsangebot 2024' '-I"Precedence: junk"' <<'EOF'

Guten Tag,
vielen Dank für Ihre E-Mail. Ich bin vom 4. bis 20. März nicht im Büro und habe keinen Zugriff auf meine E-Mails.
Anna Berger
EOF
pm procmail-junk-xloop-en.eml 'procmailex recipe: Precedence: junk, X-Loop, English text' 'Spring offer' '-I"Precedence: junk"' <<'EOF'

Hello,
I'm currently out of the office and will return on 20 March. I will reply to your message when I return.
Anna
EOF
pm procmail-bulk-xloop-fr.eml 'Precedence: bulk (no list headers), X-Loop, French text' 'Offre de printemps' '-I"Precedence: bulk"' <<'EOF'

Bonjour,
je suis en congé jusqu'au 20 mars. Votre message sera traité à mon retour.
Anna
EOF
pm procmail-xloop-subject-it.eml 'X-Loop and an Italian subject "Fuori ufficio", no Precedence' 'Offerta di primavera' '-I"Subject: Fuori ufficio"' <<'EOF'

Buongiorno,
sono fuori ufficio fino al 20 marzo con accesso limitato alla posta elettronica.
Anna
EOF
pm procmail-junk-xloop-pt.eml 'Precedence: junk, X-Loop, Portuguese subject "Ausente do escritório"' 'Oferta de primavera' '-I"Precedence: junk" -I"Subject: Ausente do escritório"' <<'EOF'

Olá,
estou ausente do escritório até 20 de março.
Anna
EOF
pm procmail-junk-xloop-cs.eml 'Precedence: junk, X-Loop, Czech subject "Automatická odpověď"' 'Jarní nabídka' '-I"Precedence: junk" -I"Subject: Automatická odpověď: Jarní nabídka"' <<'EOF'

Dobrý den,
jsem mimo kancelář do 20. března.
Anna
EOF
pm procmail-junk-xloop-da.eml 'Precedence: junk, X-Loop, Danish subject "Fraværende"' 'Forårstilbud' '-I"Precedence: junk" -I"Subject: Fraværende"' <<'EOF'

Hej,
jeg er på ferie til og med 20. marts og læser ikke min e-mail.
Anna
EOF
pm procmail-junk-xloop-no.eml 'Precedence: junk, X-Loop, Norwegian subject "Fravær"' 'Våртilbud' '-I"Precedence: junk" -I"Subject: Fravær"' <<'EOF'

Hei,
jeg er på ferie frem til 20. mars og har ikke tilgang til e-post.
Anna
EOF

# ---- 4. maildrop's mailbot ----------------------------------------------------------------------------------------
mb() { # mb NAME NOTE SUBJECT REPLY-SUBJECT (text on stdin)
  cat > "$work/mailbot.txt"
  campaign anna@kunde.example "$3" | mailbot -t "$work/mailbot.txt" -A 'From: Anna Berger <anna@kunde.example>' -s "$4" "$work/sendmail" -f ''
  take "$1" auto-reply "mailbot (maildrop 3.1)" "$2"
}
mb mailbot-de.eml 'mailbot: Auto-Submitted, Precedence: junk, quotes the original' 'Frühjahrsangebot 2024' 'Abwesend' <<'EOF'
Ich bin bis zum 20. März im Urlaub.
EOF
mb mailbot-en.eml 'mailbot, English' 'Spring offer' 'Away from the office' <<'EOF'
I am away from the office until March 20th.
EOF

# ---- 5. Exim 4.96: autoreply transport, bounces, delay warning, success DSN ----------------------------------------
mkdir -p "$work/exim/spool" "$work/exim/log" "$work/exim/maildir"; chmod 777 "$work/exim/maildir"
chown 65534:65534 "$work/exim/spool" "$work/exim/log"  # the Debian-exim user of the private passwd file
( cd "$work/exim" && apt-get download exim4-daemon-light >/dev/null 2>&1 ) || true
exim_deb=$(ls "$work"/exim/exim4-daemon-light_*.deb | head -1)
dpkg -x "$exim_deb" "$work/exim/root"
cp /etc/passwd "$work/exim/passwd"; cp /etc/group "$work/exim/group"
echo 'Debian-exim:x:65534:65534::/nonexistent:/usr/sbin/nologin' >> "$work/exim/passwd"
echo 'Debian-exim:x:65534:' >> "$work/exim/group"
cat > "$work/exim/exim.conf" <<EOF
primary_hostname = mx.kunde.example
qualify_domain = kunde.example
domainlist local_domains = kunde.example
exim_path = $work/exim/root/usr/sbin/exim4
spool_directory = $work/exim/spool
log_file_path = $work/exim/log/%slog
exim_user = Debian-exim
exim_group = Debian-exim
never_users =
trusted_users = root : Debian-exim
delay_warning = 1s
delay_warning_condition = true
dsn_advertise_hosts = *
acl_smtp_rcpt = accept_all
keep_environment =
begin acl
accept_all:
  accept
begin routers
capture:
  driver = accept
  domains = ! +local_domains
  transport = capture_t
gone:
  driver = redirect
  local_parts = gone
  data = :fail: mailbox unavailable (the user left the company)
  allow_fail
delayed:
  driver = redirect
  local_parts = delayed
  data = :defer: mailbox temporarily unavailable
  allow_defer
autoreply:
  driver = accept
  local_parts = anna : jean : otto
  transport = \${local_part_data}_t
local:
  driver = accept
  local_parts = kim
  transport = local_t
begin transports
capture_t:
  driver = appendfile
  directory = $work/exim/maildir
  maildir_format
  user = Debian-exim
  group = Debian-exim
  mode = 0666
  return_path_add
local_t:
  driver = appendfile
  file = /dev/null
  user = Debian-exim
  group = Debian-exim
anna_t:
  driver = autoreply
  user = Debian-exim
  group = Debian-exim
  to = \$sender_address
  from = Anna Berger <anna@kunde.example>
  subject = \${rfc2047:Abwesenheitsnotiz: \$h_subject:}
  text = Guten Tag,\n\nich bin bis zum 20. März nicht im Büro und lese meine E-Mails nicht.\nIn dringenden Fällen wenden Sie sich bitte an info@kunde.example.\n\nAnna Berger
jean_t:
  driver = autoreply
  user = Debian-exim
  group = Debian-exim
  to = \$sender_address
  from = Jean Dupont <jean@kunde.example>
  subject = \${rfc2047:Réponse automatique : \$h_subject:}
  text = Bonjour,\n\nje suis absent jusqu'au 20 mars.\n\nJean Dupont
otto_t:
  driver = autoreply
  user = Debian-exim
  group = Debian-exim
  to = \$sender_address
  from = Otto <otto@kunde.example>
  subject = Ticket [#4711] received
  text = Thank you for contacting support. Your request has been received and a ticket has been created.
begin retry
*   *   F,1d,1m
EOF
exim() { unshare -m sh -c "mount --bind '$work/exim/passwd' /etc/passwd; mount --bind '$work/exim/group' /etc/group; '$work/exim/root/usr/sbin/exim4' -C '$work/exim/exim.conf' \"\$@\"" exim "$@"; }
etake() { # etake NAME CLASS NOTE
  n=$(ls "$work/exim/maildir/new" 2>/dev/null | wc -l)
  if [ "$n" -ne 1 ]; then echo "expected one Exim message for $1, got $n" >&2; cat "$work/exim/log/mainlog" >&2; exit 1; fi
  # Exim's return_path_add writes "Return-path:"; the file is kept byte for byte.
  mkdir -p "$dest/exim"
  mv "$work/exim/maildir/new/"* "$dest/exim/$1"
  printf '%s\t%s\t%s\t%s\n' "exim/$1" "$2" "exim4-daemon-light 4.96 (dpkg -x, command line)" "$3" >> "$labels"
}
campaign anna@kunde.example 'Frühjahrsangebot 2024' | exim -odi -f news@campaign.example anna@kunde.example
etake exim-autoreply-de.eml auto-reply 'autoreply transport, German subject "Abwesenheitsnotiz: <subject>" (Exim adds Auto-Submitted)'
campaign jean@kunde.example 'Offre de printemps' | exim -odi -f news@campaign.example jean@kunde.example
etake exim-autoreply-fr.eml auto-reply 'autoreply transport, French "Réponse automatique : <subject>"'
campaign otto@kunde.example 'Question about my order' | exim -odi -f news@campaign.example otto@kunde.example
etake exim-autoreply-ticket-en.eml auto-reply 'autoreply transport as a ticket acknowledgement'
campaign gone@kunde.example 'Frühjahrsangebot 2024' | exim -odi -f news@campaign.example gone@kunde.example
etake exim-bounce-failed.eml bounce 'bounce: multipart/report, Action: failed, X-Failed-Recipients, Auto-Submitted: auto-replied'
campaign delayed@kunde.example 'Frühjahrsangebot 2024' | exim -odq -f news@campaign.example delayed@kunde.example
sleep 2
exim -qff >/dev/null 2>&1 || true
sleep 1
etake exim-delay-warning.eml bounce 'delay warning: "Warning: message ... delayed", Action: delayed (a delay warning, not a failure)'
rm -rf "$work/exim/spool/input" "$work/exim/spool/msglog"
# A success DSN: RCPT with NOTIFY=SUCCESS over an SMTP session on stdin (-bs).
printf 'EHLO campaign.example\r\nMAIL FROM:<news@campaign.example> RET=HDRS\r\nRCPT TO:<kim@kunde.example> NOTIFY=SUCCESS\r\nDATA\r\n%s\r\n.\r\nQUIT\r\n' \
  "$(campaign kim@kunde.example 'Spring offer' | sed 's/$/\r/')" | exim -bs -odi >/dev/null 2>&1
sleep 1
etake exim-success-dsn.eml auto-reply 'success DSN (NOTIFY=SUCCESS): Action: delivered, a delivery receipt, not a bounce'

# ---- 6. Hand-written hard human replies (what a person writes that looks automatic) ----------------------------------
human() { # human NAME NOTE (message on stdin)
  mkdir -p "$dest/human"
  cat > "$dest/human/$1"
  printf '%s\thuman\thand-written\t%s\n' "human/$1" "$2" >> "$labels"
}
human human-vacation-in-reply-de.eml 'a person answering (AW:) and mentioning her holiday and Abwesenheit' <<'EOF'
Return-Path: <s.huber@kunde.example>
From: Sabine Huber <s.huber@kunde.example>
To: news@campaign.example
Subject: AW: Frühjahrsangebot 2024
Message-ID: <h1@kunde.example>
In-Reply-To: <campaign-1@campaign.example>
Date: Wed, 13 Mar 2024 10:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Guten Tag,

ich bin ab morgen bis zum 20. März im Urlaub und danach nicht im Büro erreichbar. Bitte schicken Sie mir das Angebot
vorher noch als PDF.

Viele Grüße
Sabine Huber
EOF
human human-out-of-office-policy.eml 'a new subject starting "Out of office" (a policy question), text about being out of the office' <<'EOF'
Return-Path: <hr@customer.example>
From: HR Team <hr@customer.example>
To: news@campaign.example
Subject: Out of office policy for your support hotline
Message-ID: <h2@customer.example>
Date: Wed, 13 Mar 2024 10:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello,

what is your out of office policy: when I am on vacation until the end of the month, who answers my tickets?
Automatic replies are not allowed here, so I write by hand.

Kind regards
Maria
EOF
human human-list-precedence-list.eml 'a reply through a mailing list: Precedence: list, List-Id, X-Loop, Return-Path of the list' <<'EOF'
Return-Path: <kunden-bounces@lists.kunde.example>
From: Peter Klein <peter@kunde.example>
To: news@campaign.example
Subject: Re: [kunden] Frühjahrsangebot 2024
Message-ID: <h3@kunde.example>
Date: Wed, 13 Mar 2024 10:00:00 +0100
Precedence: list
X-Loop: kunden@lists.kunde.example
List-Id: Kunden <kunden.lists.kunde.example>
List-Post: <mailto:kunden@lists.kunde.example>
List-Unsubscribe: <mailto:kunden-leave@lists.kunde.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Ich bin bis Freitag im Urlaub, aber das Angebot gefällt mir. Bitte rufen Sie mich nächste Woche an.
Peter
EOF
human human-list-precedence-bulk.eml 'a reply through a list that sets Precedence: bulk, with List-* headers' <<'EOF'
Return-Path: <owner-customers@lists.example.net>
From: Jane Roe <jane@customer.example>
To: news@campaign.example
Subject: Re: [customers] Spring offer
Message-ID: <h4@customer.example>
Date: Wed, 13 Mar 2024 10:00:00 +0100
Precedence: bulk
List-Id: <customers.lists.example.net>
List-Unsubscribe: <mailto:customers-request@lists.example.net?subject=unsubscribe>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

I'm out of the office until Monday, but yes, we want the offer. Please send the price list.
Jane
EOF
human human-subject-urlaub-question.eml 'a new subject "Urlaubsplanung" (holiday planning) with a question' <<'EOF'
Return-Path: <k.braun@kunde.example>
From: Klaus Braun <k.braun@kunde.example>
To: news@campaign.example
Subject: Urlaub und Ihre Lieferzeiten
Message-ID: <h5@kunde.example>
Date: Wed, 13 Mar 2024 10:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hallo,
wir sind im August im Urlaub. Liefern Sie auch in dieser Zeit? Ich bin bis zum 20. nicht im Büro, danach gern telefonisch.
Klaus Braun
EOF
human human-noreply-shared-mailbox.eml 'a person writing from a noreply-looking shared mailbox, with a null-looking Return-Path missing' <<'EOF'
Return-Path: <noreply@shop.example>
From: Shop Team <noreply@shop.example>
To: news@campaign.example
Subject: Re: Kooperation
Message-ID: <h6@shop.example>
Date: Wed, 13 Mar 2024 10:00:00 +0100
X-Loop: shop.example
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hallo, ich antworte aus unserem Sammelpostfach: wir sind interessiert. Ich bin diese Woche nicht im Büro, rufen Sie mich mobil an.
Julia
EOF
human human-automatic-reply-question-fr.eml 'French: asks how to set up a "réponse automatique"' <<'EOF'
Return-Path: <luc@client.example>
From: Luc Martin <luc@client.example>
To: news@campaign.example
Subject: Réponse automatique dans votre logiciel ?
Message-ID: <h7@client.example>
Date: Wed, 13 Mar 2024 10:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Bonjour,
je suis absent du bureau la semaine prochaine : comment configurer une réponse automatique avec votre logiciel ?
Merci, Luc
EOF
human human-ticket-number-question.eml 'a customer quoting his ticket number in a new subject' <<'EOF'
Return-Path: <mark@customer.example>
From: Mark Stone <mark@customer.example>
To: news@campaign.example
Subject: Ticket #4711 still open - thank you for your message
Message-ID: <h8@customer.example>
Date: Wed, 13 Mar 2024 10:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hi, thank you for contacting me about the offer. My ticket number is #4711 and it is still not solved.
Mark
EOF
human human-forwarded-delay-warning.eml 'a person forwarding an Exim delay warning inline (Fwd:)' <<'EOF'
Return-Path: <it@kunde.example>
From: IT <it@kunde.example>
To: news@campaign.example
Subject: Fwd: Warning: message 1xXb delayed 24 hours
Message-ID: <h9@kunde.example>
Date: Wed, 13 Mar 2024 10:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

FYI, our server was down, please resend.

---------- Forwarded message ---------
From: Mail Delivery System <Mailer-Daemon@kunde.example>
Subject: Warning: message 1xXb delayed 24 hours
Action: delayed
EOF
human human-precedence-bulk-no-list.eml 'a person whose mail gateway adds Precedence: bulk (no list headers); an ordinary answer' <<'EOF'
Return-Path: <ole@firma.example>
From: Ole Hansen <ole@firma.example>
To: news@campaign.example
Subject: Re: Forårstilbud
Message-ID: <h10@firma.example>
Date: Wed, 13 Mar 2024 10:00:00 +0100
Precedence: bulk
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hej, tak for tilbuddet. Vi vil gerne bestille 20 stk. Jeg er på ferie næste uge, så send venligst fakturaen i dag.
Ole
EOF

echo "wrote $(($(wc -l < "$labels") - 1)) messages to $dest"
