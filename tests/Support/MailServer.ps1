# Test mail server harness: a private Dovecot (IMAP + LMTP) and Postfix (SMTP -> LMTP) per test run.
# Dot-source it: . "$PSScriptRoot/Support/MailServer.ps1"
# Everything lives in one temp directory and listens on 127.0.0.1 only, on ports picked at start,
# so several instances (and a system instance) can run side by side. Needs root (CI runs as root).
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$script:TestPostfixMaster = "$((& postconf -d -h daemon_directory 2>$null) -join '')/master"
if (-not (Test-Path -LiteralPath $script:TestPostfixMaster)) { $script:TestPostfixMaster = '/usr/lib/postfix/sbin/master' }
$script:TestMailDefaultUsers = @('replies@example.test', 'inbound@example.test', 'forward@example.test', 'staff@example.test')

function New-TestMailRandomString {
    param([int] $Length = 24)
    $chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
    $sb = [System.Text.StringBuilder]::new()
    for ($i = 0; $i -lt $Length; $i++) {
        [void] $sb.Append($chars[[System.Security.Cryptography.RandomNumberGenerator]::GetInt32($chars.Length)])
    }
    $sb.ToString()
}

function Get-TestMailFreePort {
    # Let the kernel pick a free loopback port; there is a small race until the server binds it,
    # but ephemeral ports are handed out round-robin, so a quick re-use is unlikely.
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Invoke-TestMailNative {
    # Runs a native command, throws with its output on a non-zero exit code.
    # Output goes through a temp file, not a pipe: daemons (dovecot, postfix master) inherit stdout/stderr,
    # and PowerShell would wait for that pipe's EOF forever.
    param([Parameter(Mandatory)] [string] $FilePath, [string[]] $ArgumentList = @(), [string] $InputFile = '/dev/null')
    $outFile = [System.IO.Path]::GetTempFileName()
    try {
        & /bin/sh -c 'in="$1"; out="$2"; shift 2; exec "$@" < "$in" > "$out" 2>&1' sh $InputFile $outFile $FilePath @ArgumentList
        $code = $LASTEXITCODE
        $text = [System.IO.File]::ReadAllText($outFile).TrimEnd()
    } finally {
        Remove-Item -LiteralPath $outFile -Force -ErrorAction SilentlyContinue
    }
    if ($code -ne 0) { throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code ${code}: $text" }
    $text
}

function Get-TestMailProcessGroup {
    # Pids whose process group is $GroupId. Both Dovecot and Postfix masters call setsid(), so their
    # process group holds exactly one instance's processes: this is how we stop "only what we started".
    param([Parameter(Mandatory)] [int] $GroupId)
    foreach ($dir in [System.IO.Directory]::GetDirectories('/proc')) {
        $name = [System.IO.Path]::GetFileName($dir)
        if ($name -notmatch '^\d+$') { continue }
        try { $stat = [System.IO.File]::ReadAllText("$dir/stat") } catch { continue }
        # Fields after the ")" of comm: state ppid pgrp ...
        $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        # Zombies are already dead; they only wait for their parent (or init) to reap them.
        if ($fields[0] -ne 'Z' -and [int] $fields[2] -eq $GroupId) { [int] $name }
    }
}

function Test-TestMailProcess {
    # True if $ProcessId is alive and its comm is $Name (guards against pid reuse).
    param([int] $ProcessId, [string] $Name)
    if ($ProcessId -le 0) { return $false }
    try { $comm = [System.IO.File]::ReadAllText("/proc/$ProcessId/comm").Trim() } catch { return $false }
    return ($comm -eq $Name)
}

function Send-TestMailGroupKill {
    # procps kill takes a negative pid (= process group) after "--"; dash's builtin kill does not.
    param([int] $GroupId)
    & /bin/sh -c '/usr/bin/kill -KILL -- "-$1"' sh $GroupId 2>$null
}

function Stop-TestMailProcessGroup {
    # -Kill: SIGKILL the whole group at once (a crash, and instant); otherwise SIGTERM the master
    # (graceful; Dovecot's master needs ~1-3 s to exit, Postfix's well under 1 s) and SIGKILL after the timeout.
    param([int] $MasterPid, [string] $Name, [switch] $Kill, [int] $TimeoutSeconds = 10)
    if (-not (Test-TestMailProcess -ProcessId $MasterPid -Name $Name)) { return }
    $isLeader = @(Get-TestMailProcessGroup -GroupId $MasterPid) -contains $MasterPid
    if ($Kill -and $isLeader) { Send-TestMailGroupKill -GroupId $MasterPid }
    elseif ($Kill) { & kill -KILL $MasterPid 2>$null }
    else { & kill -TERM $MasterPid 2>$null }
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        $left = @(if ($isLeader) { Get-TestMailProcessGroup -GroupId $MasterPid } elseif (Test-TestMailProcess $MasterPid $Name) { $MasterPid })
        if ($left.Count -eq 0) { return }
        Start-Sleep -Milliseconds 50
    }
    # Graceful stop timed out: kill the instance's group (never anything by name).
    if ($isLeader) { Send-TestMailGroupKill -GroupId $MasterPid } else { & kill -KILL $MasterPid 2>$null }
    Start-Sleep -Milliseconds 200
    $left = @(if ($isLeader) { Get-TestMailProcessGroup -GroupId $MasterPid } elseif (Test-TestMailProcess $MasterPid $Name) { $MasterPid })
    if ($left.Count -gt 0) { throw "$Name (pid $MasterPid) did not exit: $($left -join ', ')" }
}

function Get-TestMailPidFile {
    # Postfix holds a lock on its pid file and .NET refuses to open locked files, so read it with cat.
    param([string] $Path)
    if (-not (Test-Path -LiteralPath $Path)) { return 0 }
    $text = (& cat $Path 2>$null) -join ''
    if ($text -match '(\d+)') { [int] $Matches[1] } else { 0 }
}

function Wait-TestMailPortFree {
    # After a stop, make sure no straggler still holds a listening socket before we rebind the port
    # (TIME_WAIT connections do not matter: both servers bind with SO_REUSEADDR).
    param([int[]] $Port, [int] $TimeoutSeconds = 10)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    foreach ($p in $Port) {
        while ((& ss -Hltn "sport = :$p" 2>$null) -match 'LISTEN') {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Port $p is still in use (listening)" }
            Start-Sleep -Milliseconds 50
        }
    }
}

function Read-TestMailLine {
    param([System.IO.Stream] $Stream)
    $reader = [System.IO.StreamReader]::new($Stream, [System.Text.Encoding]::ASCII, $false, 1024, $true)
    try { $reader.ReadLine() } finally { $reader.Dispose() }
}

function Test-TestMailGreeting {
    # One probe: connect, optionally do TLS (any certificate: we only want to know it is up), read the banner.
    param([int] $Port, [switch] $Tls, [string] $Expect)
    $client = [System.Net.Sockets.TcpClient]::new()
    try {
        $task = $client.ConnectAsync('127.0.0.1', $Port)
        if (-not $task.Wait(2000)) { return $false }
        $client.ReceiveTimeout = 2000
        $stream = $client.GetStream()
        if ($Tls) {
            $ssl = [System.Net.Security.SslStream]::new($stream, $false, { $true })
            $ssl.ReadTimeout = 2000
            $ssl.AuthenticateAsClient('localhost')
            $stream = $ssl
        }
        $line = Read-TestMailLine -Stream $stream
        return ($null -ne $line -and $line.StartsWith($Expect))
    } catch {
        return $false
    } finally {
        $client.Dispose()
    }
}

function Wait-TestMailGreeting {
    param([object] $Server, [int] $Port, [switch] $Tls, [string] $Expect, [string] $What, [int] $TimeoutSeconds = 20)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (Test-TestMailGreeting -Port $Port -Tls:$Tls -Expect $Expect)) {
        if ([DateTime]::UtcNow -gt $deadline) {
            throw "$What did not answer '$Expect' on 127.0.0.1:$Port within $TimeoutSeconds s.`n$(Get-TestMailServerLog -Server $Server)"
        }
        Start-Sleep -Milliseconds 100
    }
}

function Get-TestMailServerLog {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server, [int] $Tail = 40)
    $parts = foreach ($entry in @(@('Dovecot', $Server.DovecotLogPath), @('Postfix', $Server.PostfixLogPath))) {
        $text = if (Test-Path -LiteralPath $entry[1]) { (Get-Content -LiteralPath $entry[1] -Tail $Tail) -join "`n" } else { '(no log file)' }
        "--- $($entry[0]) log $($entry[1]) ---`n$text"
    }
    $parts -join "`n"
}

function Get-TestFreeUdpPort {
    # dnsmasq listens on UDP and TCP with the same number: the port must be free for both.
    for ($try = 0; ; $try++) {
        $socket = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        try { $port = $socket.Client.LocalEndPoint.Port } finally { $socket.Dispose() }
        $tcp = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $port)
        try { $tcp.Start(); $tcp.Stop(); return $port } catch { if ($try -ge 20) { throw } }
    }
}

function Start-TestDnsmasq {
    # A dnsmasq on loopback with no upstream: it answers what -ArgumentList gives it (--txt-record=..., --local=/#/ for
    # NXDOMAIN everywhere) and nothing leaves the machine. Returns the port (picked again should another process take it
    # meanwhile) and the pid.
    param([int] $Port, [Parameter(Mandatory)] [string] $PidFile, [string[]] $ArgumentList = @())
    if ($Port -le 0) { $Port = Get-TestFreeUdpPort }
    for ($try = 1; ; $try++) {
        try {
            $null = Invoke-TestMailNative -FilePath 'dnsmasq' -ArgumentList (@("--port=$Port", '--listen-address=127.0.0.1', '--bind-interfaces',
                '--no-resolv', '--no-hosts', '--conf-file=/dev/null', "--pid-file=$PidFile", '--user=nobody') + $ArgumentList)
            break
        }
        catch {
            if ($try -ge 3 -or "$_" -notmatch 'Address already in use') { throw }
            $Port = Get-TestFreeUdpPort
        }
    }
    $Port, (Get-TestMailPidFile -Path $PidFile)
}

function Start-TestDovecot {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server)
    if (Test-TestMailProcess -ProcessId $Server.DovecotPid -Name 'dovecot') { return }
    Wait-TestMailPortFree -Port $Server.ImapPort, $Server.PlaintextImapPort, $Server.LmtpPort
    Remove-Item -LiteralPath (Join-Path $Server.DovecotBaseDir 'master.pid') -Force -ErrorAction SilentlyContinue
    # dovecot daemonizes itself; config errors are reported on stderr before it forks.
    $null = Invoke-TestMailNative -FilePath 'dovecot' -ArgumentList '-c', $Server.DovecotConfig
    Wait-TestMailGreeting -Server $Server -Port $Server.ImapPort -Tls -Expect '* OK' -What 'Dovecot IMAPS'
    $Server.DovecotPid = Get-TestMailPidFile -Path (Join-Path $Server.DovecotBaseDir 'master.pid')
}

function Stop-TestDovecot {
    # -Kill: SIGKILL this instance's process group (crash-like, instant) instead of a graceful stop.
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server, [switch] $Kill)
    if ($Server.DovecotPid -le 0) { $Server.DovecotPid = Get-TestMailPidFile -Path (Join-Path $Server.DovecotBaseDir 'master.pid') }
    Stop-TestMailProcessGroup -MasterPid $Server.DovecotPid -Name 'dovecot' -Kill:$Kill
    $Server.DovecotPid = 0
}

function Start-TestPostfix {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server)
    if (Test-TestMailProcess -ProcessId $Server.PostfixPid -Name 'master') { return }
    Wait-TestMailPortFree -Port $Server.SmtpPort
    # 'postfix -c DIR start' would work too (as root, -c needs no alternate_config_directories entry in
    # /etc/postfix/main.cf), but its postfix-script checks cost ~2.5 s; we made the queue directories
    # ourselves, so start the master directly. -w returns once the daemon has initialized.
    $null = Invoke-TestMailNative -FilePath $script:TestPostfixMaster -ArgumentList '-c', $Server.PostfixConfigDir, '-w'
    Write-Verbose "Postfix master initialized"
    Wait-TestMailGreeting -Server $Server -Port $Server.SmtpPort -Expect '220 ' -What 'Postfix SMTP'
    $Server.PostfixPid = Get-TestMailPidFile -Path (Join-Path $Server.PostfixQueueDir 'pid/master.pid')
}

function Stop-TestPostfix {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server, [switch] $Kill)
    # SIGTERM to master = 'postfix stop'; master then terminates its own process group.
    # Pid file as fallback in case a start failed after master came up.
    if ($Server.PostfixPid -le 0) { $Server.PostfixPid = Get-TestMailPidFile -Path (Join-Path $Server.PostfixQueueDir 'pid/master.pid') }
    Stop-TestMailProcessGroup -MasterPid $Server.PostfixPid -Name 'master' -Kill:$Kill
    $Server.PostfixPid = 0
}

function Write-TestMailUsersFile {
    # passwd-file: user:{PLAIN}password:uid:gid::home::extra (read by the auth process as user dovecot; Dovecot
    # re-reads it when it changes, so rewriting it changes passwords and quotas of a running server).
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server)
    $lines = foreach ($u in $Server.Users.Keys) {
        $extra = if ($Server.Quota -and $Server.Quota.ContainsKey($u)) { "userdb_quota_rule=*:storage=$($Server.Quota[$u])" } else { '' }
        "${u}:{PLAIN}$($Server.Users[$u]):$($Server.MailUid):$($Server.MailGid)::$($Server.MailDir)/${u}::$extra"
    }
    $temp = "$($Server.UsersFile).new"
    [System.IO.File]::WriteAllText($temp, (($lines -join "`n") + "`n"))
    & chgrp dovecot $temp
    & chmod 0640 $temp
    [System.IO.File]::Move($temp, $Server.UsersFile, $true)
}

function Set-TestMailUser {
    # Changes a user's password (-Password; -Revoke sets a random new one, so the old login is refused) or quota
    # on the running server. The server object keeps the new password, so read-back helpers still log in.
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server, [Parameter(Mandatory)] [string] $User, [string] $Password, [switch] $Revoke, [string] $QuotaStorage)
    $key = $User.ToLowerInvariant()
    if ($Revoke) { $Password = New-TestMailRandomString -Length 24 }
    if ($Password) { $Server.Users[$key] = $Password }
    if ($QuotaStorage) { $Server.Quota[$key] = $QuotaStorage }
    Write-TestMailUsersFile -Server $Server
    # passwd-file is re-read when its mtime (seconds) or size changes: make sure the mtime moves on every call.
    if (-not $Server.PSObject.Properties['UsersFileStamp']) { $Server | Add-Member -NotePropertyName UsersFileStamp -NotePropertyValue ([DateTime]::UtcNow) }
    $stamp = [DateTime]::UtcNow.AddSeconds(1)
    if ($stamp -le $Server.UsersFileStamp.AddSeconds(1)) { $stamp = $Server.UsersFileStamp.AddSeconds(2) }
    $Server.UsersFileStamp = $stamp
    [System.IO.File]::SetLastWriteTimeUtc($Server.UsersFile, $stamp)
    # After a restart Dovecot's auth process did not always notice the change: reload (restarts auth) to be sure.
    if (Test-TestMailProcess -ProcessId $Server.DovecotPid -Name 'dovecot') {
        $null = Invoke-TestMailNative -FilePath 'doveadm' -ArgumentList '-c', $Server.DovecotConfig, 'reload'
        Start-Sleep -Milliseconds 500
    }
}

function Start-TestMailServer {
    [CmdletBinding()]
    param(
        [string[]] $Users = $script:TestMailDefaultUsers,
        [string] $Root,
        # Per-user storage quota, e.g. @{ 'quota@example.test' = '100K' }: enables Dovecot's quota plugin
        # (maildir "User quota") for these users only; everyone else stays unlimited.
        [hashtable] $Quota = @{},
        # OAuth2: Dovecot also accepts XOAUTH2 and OAUTHBEARER, checking each token at this RFC 7662 introspection URL
        # (passdb oauth2), and Postfix offers SMTP AUTH through Dovecot's SASL, so the relay takes tokens too.
        [string] $OAuthIntrospectionUrl,
        # Lines appended to Postfix's main.cf (later settings win), e.g. header_checks or virtual_alias_maps of one test file.
        [string] $PostfixExtraConfig,
        # Folders shared between users (RFC 4314 ACL, Dovecot's acl plugin; `doveadm acl set` shares one): each user sees
        # another's folders shared with it as "shared/<user>/<folder>" (separator '/' in every namespace: user names hold
        # dots), listed through the shared-mailboxes dictionary as a mail client needs.
        [switch] $SharedFolders
    )
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $id = (New-TestMailRandomString -Length 8).ToLowerInvariant()
    if (-not $Root) { $Root = Join-Path ([System.IO.Path]::GetTempPath()) "replyadmin-mail-$id" }
    $null = New-Item -ItemType Directory -Path $Root -Force
    $Root = (Resolve-Path -LiteralPath $Root).ProviderPath
    # Dovecot (as dovecot/dovenull/nobody) and Postfix (as postfix) must traverse the root.
    & chmod 0755 $Root

    $ports = @()
    while ($ports.Count -lt 5) { $p = Get-TestMailFreePort; if ($ports -notcontains $p) { $ports += $p } }

    $nobodyUid = [int] (& id -u nobody)
    $nogroupGid = [int] (& id -g nobody)

    $userTable = [ordered]@{}
    foreach ($u in $Users) { $userTable[$u.ToLowerInvariant()] = New-TestMailRandomString -Length 24 }

    $server = [pscustomobject]@{
        Id                        = $id
        Root                      = $Root
        ImapHost                  = '127.0.0.1'
        ImapPort                  = $ports[0]
        PlaintextImapPort         = $ports[1]
        LmtpPort                  = $ports[2]
        SmtpHost                  = '127.0.0.1'
        SmtpPort                  = $ports[3]
        SaslPort                  = $ports[4]
        CertificatePath           = Join-Path $Root 'cert.pem'
        CertificateKeyPath        = Join-Path $Root 'key.pem'
        CertificateThumbprint     = $null
        CertificateSha1Thumbprint = $null
        Users                     = [hashtable] $userTable
        UsersFile                 = Join-Path $Root 'dovecot/users'
        Quota                     = [hashtable] $Quota
        MailUid                   = $nobodyUid
        MailGid                   = $nogroupGid
        MailDir                   = Join-Path $Root 'mail'
        DovecotConfig             = Join-Path $Root 'dovecot/dovecot.conf'
        DovecotBaseDir            = Join-Path $Root 'dovecot/run'
        DovecotLogPath            = Join-Path $Root 'dovecot/dovecot.log'
        DovecotPid                = 0
        PostfixConfigDir          = Join-Path $Root 'postfix/etc'
        PostfixQueueDir           = Join-Path $Root 'postfix/queue'
        PostfixDataDir            = Join-Path $Root 'postfix/data'
        # Postfix refuses maillog_file outside maillog_file_prefixes (default /var, /dev/stdout) and then
        # dies without a word, so the log goes to /var/log.
        PostfixLogPath            = "/var/log/replyadmin-test-$id.log"
        PostfixPid                = 0
        DnsPort                   = 0
        DnsmasqPid                = 0
    }

    try {
        foreach ($d in 'dovecot', 'dovecot/state', 'postfix/etc', 'postfix/queue', 'postfix/data') {
            $null = New-Item -ItemType Directory -Path (Join-Path $Root $d) -Force
        }
        & chmod 0755 (Join-Path $Root 'dovecot') (Join-Path $Root 'postfix')
        # Mail runs as nobody: Dovecot refuses to deliver or serve mail as uid 0.
        $null = New-Item -ItemType Directory -Path $server.MailDir -Force
        & chown "${nobodyUid}:${nogroupGid}" $server.MailDir
        & chmod 0700 $server.MailDir
        & chown postfix:postfix $server.PostfixDataDir
        # Queue layout as in /etc/postfix/postfix-files (what 'postfix start' would create).
        $q = $server.PostfixQueueDir
        foreach ($d in 'active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'saved', 'trace', 'private', 'public', 'maildrop', 'pid') {
            $null = New-Item -ItemType Directory -Path (Join-Path $q $d) -Force
        }
        $null = Invoke-TestMailNative -FilePath '/bin/sh' -ArgumentList '-c', @'
set -e; cd "$1"
chmod 755 . pid
chown postfix:root active bounce corrupt defer deferred flush hold incoming saved trace private
chmod 700 active bounce corrupt defer deferred flush hold incoming saved trace private
chown postfix:postdrop public maildrop
chmod 710 public; chmod 730 maildrop
'@, 'sh', $q

        # Self-signed certificate for localhost / 127.0.0.1.
        $null = Invoke-TestMailNative -FilePath 'openssl' -ArgumentList @(
            'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3',
            '-keyout', $server.CertificateKeyPath, '-out', $server.CertificatePath,
            '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1')
        & chmod 0600 $server.CertificateKeyPath
        & chmod 0644 $server.CertificatePath
        $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem((Get-Content -LiteralPath $server.CertificatePath -Raw))
        try {
            $server.CertificateThumbprint = $cert.GetCertHashString([System.Security.Cryptography.HashAlgorithmName]::SHA256).ToUpperInvariant()
            $server.CertificateSha1Thumbprint = $cert.Thumbprint.ToUpperInvariant()
        } finally { $cert.Dispose() }

        # passwd-file: user:{PLAIN}password:uid:gid::home:: (read by the auth process as user dovecot).
        $usersFile = $server.UsersFile
        Write-TestMailUsersFile -Server $server

        $dh = if (Test-Path '/usr/share/dovecot/dh.pem') { 'ssl_dh = </usr/share/dovecot/dh.pem' } else { '' }
        $oauthPassdb = ''
        $postfixSasl = ''
        if ($OAuthIntrospectionUrl) {
            $oauthConf = Join-Path $Root 'dovecot/oauth2.conf.ext'
            [System.IO.File]::WriteAllText($oauthConf, @"
introspection_mode = post
introspection_url = $OAuthIntrospectionUrl
username_attribute = username
active_attribute = active
active_value = true
"@)
            # First, and for the token mechanisms only: a token is never compared with a password and vice versa.
            $oauthPassdb = "passdb {`n  driver = oauth2`n  mechanisms = xoauth2 oauthbearer`n  args = $oauthConf`n}`nservice auth {`n  inet_listener sasl {`n    address = 127.0.0.1`n    port = $($server.SaslPort)`n  }`n}"
            # Refused tokens are part of the tests: no growing penalty delay for the loopback client.
            # (Dovecot's documented switch: auth cannot reach anvil's penalty socket.)
            $oauthPassdb += "`nauth_failure_delay = 0`nservice anvil {`n  unix_listener anvil-auth-penalty {`n    mode = 0`n  }`n}"
            $postfixSasl = "smtpd_sasl_auth_enable = yes`nsmtpd_sasl_type = dovecot`nsmtpd_sasl_path = inet:127.0.0.1:$($server.SaslPort)`n"
        }
        $plugins = @(if ($Quota.Count -gt 0) { 'quota' }) + @(if ($SharedFolders) { 'acl' })
        # A standalone config (no conf.d include): base_dir/state_dir inside the root so the system
        # instance is never touched; instance_name keeps process titles apart.
        $dovecotConf = @"
instance_name = replyadmin-$id
base_dir = $($server.DovecotBaseDir)
state_dir = $Root/dovecot/state
protocols = imap lmtp
listen = 127.0.0.1
log_path = $($server.DovecotLogPath)
info_log_path = $($server.DovecotLogPath)
ssl = required
ssl_cert = <$($server.CertificatePath)
ssl_key = <$($server.CertificateKeyPath)
$dh
auth_mechanisms = plain login$(if ($OAuthIntrospectionUrl) { ' xoauth2 oauthbearer' })
auth_username_format = %Lu
mail_location = maildir:$($server.MailDir)/%u
mail_max_userip_connections = 100
postmaster_address = postmaster@example.test
lmtp_save_to_detail_mailbox = no
$(if ($plugins) { "mail_plugins = `$mail_plugins $($plugins -join ' ')`nprotocol imap {`n  mail_plugins = `$mail_plugins $(($plugins | ForEach-Object { "imap_$_" }) -join ' ')`n}" })
$(if ($Quota.Count -gt 0) { "plugin {`n  quota = maildir:User quota`n}" })
namespace inbox {
  inbox = yes
$(if ($SharedFolders) { "  separator = /" })
}
$(if ($SharedFolders) { "plugin {`n  acl = vfile`n  acl_shared_dict = file:$($server.MailDir)/shared-mailboxes`n}`nnamespace shared {`n  type = shared`n  separator = /`n  prefix = shared/%%u/`n  location = maildir:$($server.MailDir)/%%u`n  subscriptions = no`n  list = children`n}" })
$oauthPassdb
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%Lu $usersFile
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $usersFile
}
# The plaintext listener exists so tests can check the client refuses it. Note: Dovecot counts loopback
# as "secured", so even with ssl = required a plaintext LOGIN from 127.0.0.1 is accepted here.
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $($server.PlaintextImapPort)
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $($server.ImapPort)
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $($server.LmtpPort)
  }
}
"@
        [System.IO.File]::WriteAllText($server.DovecotConfig, $dovecotConf)

        $domains = @($userTable.Keys | ForEach-Object { $_.Split('@')[-1] } | Sort-Object -Unique)
        $postfixMain = @"
compatibility_level = 3.6
queue_directory = $($server.PostfixQueueDir)
data_directory = $($server.PostfixDataDir)
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.replyadmin.test
mydomain = replyadmin.test
myorigin = `$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# Loopback clients need no auth, but only our own domains are accepted: nothing can leave the box,
# and unknown users are refused at RCPT time (550) instead of bouncing later.
smtpd_relay_restrictions = reject_unauth_destination
default_transport = error:the test mail server does not relay
relay_transport = error:the test mail server does not relay
smtpd_client_connection_count_limit = 0
smtpd_error_sleep_time = 0
virtual_mailbox_domains = $($domains -join ', ')
# texthash: needs no postmap.
virtual_mailbox_maps = texthash:$($server.PostfixConfigDir)/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$($server.LmtpPort)
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
local_recipient_maps =
relayhost =
biff = no
append_dot_mydomain = no
# Dovecot 2.3's LMTP does not offer SMTPUTF8, so Postfix would bounce every message a client submitted
# with SMTPUTF8 ("SMTPUTF8 is required, but was not offered"). Not offering it makes clients (MailKit)
# send plain 8BITMIME; raw UTF-8 headers and 8-bit bodies still pass through unchanged.
smtputf8_enable = no
message_size_limit = 62914560
mailbox_size_limit = 0
virtual_mailbox_limit = 0
smtpd_tls_cert_file = $($server.CertificatePath)
smtpd_tls_key_file = $($server.CertificateKeyPath)
smtpd_tls_security_level = may
smtp_tls_security_level = none
lmtp_tls_security_level = none
maillog_file = $($server.PostfixLogPath)
$postfixSasl
# Retry quickly after Dovecot fault tests instead of the default 300 s back-off.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
$PostfixExtraConfig
"@
        $postfixMaster = @"
# Private instance; no chroot so paths in the temp dir work as written.
127.0.0.1:$($server.SmtpPort) inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"@
        [System.IO.File]::WriteAllText((Join-Path $server.PostfixConfigDir 'main.cf'), $postfixMain)
        $vmailbox = foreach ($u in $userTable.Keys) { "$u OK" }
        [System.IO.File]::WriteAllText((Join-Path $server.PostfixConfigDir 'vmailbox'), (($vmailbox -join "`n") + "`n"))
        [System.IO.File]::WriteAllText((Join-Path $server.PostfixConfigDir 'master.cf'), $postfixMaster)

        Write-Verbose "[$id] config and certificate ready after $($clock.ElapsedMilliseconds) ms"
        Start-TestDovecot -Server $server
        Write-Verbose "[$id] Dovecot up after $($clock.ElapsedMilliseconds) ms"
        Start-TestPostfix -Server $server
        Write-Verbose "[$id] Postfix up after $($clock.ElapsedMilliseconds) ms"
        # ReplyAdmin checks senders' DKIM/DMARC in DNS: New-TestReplyConfiguration points it here (NXDOMAIN for every
        # name, as for a domain with no records), so no test asks a resolver beyond loopback.
        $server.DnsPort, $server.DnsmasqPid = Start-TestDnsmasq -PidFile (Join-Path $Root 'dnsmasq.pid') -ArgumentList '--local=/#/'
    } catch {
        $err = $_
        try { Stop-TestMailServer -Server $server } catch { Write-Warning "Cleanup after failed start: $_" }
        throw $err
    }
    $server
}

function Stop-TestMailServer {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server)
    # Teardown: the files are deleted next, so a graceful shutdown buys nothing; -Kill is instant.
    try { Stop-TestPostfix -Server $Server -Kill } finally { Stop-TestDovecot -Server $Server -Kill }
    if ($Server.DnsmasqPid -gt 0) { Stop-TestMailProcessGroup -MasterPid $Server.DnsmasqPid -Name 'dnsmasq' -Kill; $Server.DnsmasqPid = 0 }
    if ($Server.Root -and (Test-Path -LiteralPath $Server.Root)) { Remove-Item -LiteralPath $Server.Root -Recurse -Force }
    if (Test-Path -LiteralPath $Server.PostfixLogPath) { Remove-Item -LiteralPath $Server.PostfixLogPath -Force }
}

# --- Fixture helpers (setup and inspection via doveadm; real tests read back over IMAP) ---

function Add-TestMailFolder {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server, [Parameter(Mandatory)] [string] $User, [Parameter(Mandatory)] [string] $Folder)
    $null = Invoke-TestMailNative -FilePath 'doveadm' -ArgumentList '-c', $Server.DovecotConfig, 'mailbox', 'create', '-u', $User, $Folder
}

function Import-TestMessage {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server, [Parameter(Mandatory)] [string] $User,
        [string] $Folder = 'INBOX', [Parameter(Mandatory)] [string] $Path)
    # doveadm save reads the raw message from stdin; bytes are passed through unchanged.
    $null = Invoke-TestMailNative -FilePath 'doveadm' -ArgumentList '-c', $Server.DovecotConfig, 'save', '-u', $User, '-m', $Folder -InputFile $Path
}

function Get-TestMessageCount {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Server, [Parameter(Mandatory)] [string] $User, [string] $Folder = 'INBOX')
    $out = Invoke-TestMailNative -FilePath 'doveadm' -ArgumentList '-c', $Server.DovecotConfig, 'mailbox', 'status', '-u', $User, 'messages', $Folder
    if ($out -notmatch 'messages=(\d+)') { throw "Unexpected doveadm output: $out" }
    [int] $Matches[1]
}
