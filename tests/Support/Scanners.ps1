# Real content scanners for tests: clamd with only a local signature database and rspamd with DNS pointed at a
# dnsmasq that refuses every query, all on loopback ports picked at start, in one temp directory.
# Dot-source it after MailServer.ps1 (it uses its free-port and process helpers):
#   . "$PSScriptRoot/Support/MailServer.ps1"; . "$PSScriptRoot/Support/Scanners.ps1"
# Readiness is waited on (clamd PING, rspamd /ping), never slept. Nothing is downloaded: no freshclam, and every
# rspamd module that fetches maps or asks DNS lists is off.
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# The EICAR test file, from pieces, so no file in the repository is itself flagged by an anti-virus.
function Get-TestEicarBytes { [Text.Encoding]::ASCII.GetBytes('X5O!P%@AP[4\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-' + 'ANTIVIRUS-TEST-FILE!$H+H*') }
# A marker of our own that the local .ndb flags, to show the database is ours and not a downloaded one.
$script:TestVirusMarker = 'REPLYADMIN-TEST-' + 'MALWARE-MARKER-7f3a'

function Wait-TestScannerReady {
    param([scriptblock] $Probe, [string] $What, [string] $LogPath, [int] $TimeoutSeconds = 120)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (& $Probe)) {
        if ([DateTime]::UtcNow -gt $deadline) {
            $log = if ($LogPath -and (Test-Path $LogPath)) { (Get-Content $LogPath -Tail 30) -join "`n" } else { '(no log)' }
            throw "$What was not ready within $TimeoutSeconds s.`n$log"
        }
        Start-Sleep -Milliseconds 100
    }
}

function Test-TestClamdPing {
    param([int] $Port)
    $client = [System.Net.Sockets.TcpClient]::new()
    try {
        if (-not $client.ConnectAsync('127.0.0.1', $Port).Wait(1000)) { return $false }
        $stream = $client.GetStream(); $stream.ReadTimeout = 2000
        $bytes = [Text.Encoding]::ASCII.GetBytes("zPING`0"); $stream.Write($bytes, 0, $bytes.Length)
        $buffer = [byte[]]::new(16); $n = $stream.Read($buffer, 0, 16)
        return ([Text.Encoding]::ASCII.GetString($buffer, 0, $n).TrimEnd("`0") -eq 'PONG')
    } catch { return $false } finally { $client.Dispose() }
}

function Test-TestRspamdPing {
    param([int] $Port)
    $http = [System.Net.Http.HttpClient]::new(); $http.Timeout = [TimeSpan]::FromSeconds(2)
    try { return ($http.GetStringAsync("http://127.0.0.1:$Port/ping").GetAwaiter().GetResult().Trim() -eq 'pong') } catch { return $false } finally { $http.Dispose() }
}

function Start-TestClamd {
    # clamd with StreamMaxLength 12M (a 13 MB message gets the size error), TCP and a Unix socket.
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Scanners)
    $dir = $Scanners.ClamdDir
    if (-not $Scanners.ClamdPort) { $Scanners.ClamdPort = Get-TestMailFreePort }
    $null = New-Item -ItemType Directory -Path "$dir/db" -Force
    $md5 = [BitConverter]::ToString([Security.Cryptography.MD5]::HashData((Get-TestEicarBytes))).Replace('-', '').ToLowerInvariant()
    Set-Content -LiteralPath "$dir/db/local.hdb" -Value "${md5}:68:ReplyAdmin.Test.EICAR" -NoNewline
    $hex = -join ([Text.Encoding]::ASCII.GetBytes($script:TestVirusMarker) | ForEach-Object { $_.ToString('x2') })
    Set-Content -LiteralPath "$dir/db/local.ndb" -Value "ReplyAdmin.Test.Marker:0:*:$hex" -NoNewline
    @"
Foreground no
PidFile $dir/clamd.pid
LocalSocket $($Scanners.ClamdSocket)
LocalSocketMode 666
TCPSocket $($Scanners.ClamdPort)
TCPAddr 127.0.0.1
DatabaseDirectory $dir/db
LogFile $dir/clamd.log
StreamMaxLength 12M
Bytecode no
User root
"@ | Set-Content -LiteralPath "$dir/clamd.conf"
    Remove-Item -LiteralPath $Scanners.ClamdSocket -Force -ErrorAction SilentlyContinue
    $null = Invoke-TestMailNative -FilePath 'clamd' -ArgumentList '-c', "$dir/clamd.conf"
    $port = $Scanners.ClamdPort
    Wait-TestScannerReady -Probe { Test-TestClamdPing -Port $port } -What 'clamd' -LogPath "$dir/clamd.log" -TimeoutSeconds 60
    $Scanners.ClamdPid = Get-TestMailPidFile -Path "$dir/clamd.pid"
}

function Stop-TestClamd {
    # -Kill: SIGKILL (a crash); otherwise SIGTERM. Only the clamd this harness started (pid file + comm check).
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Scanners, [switch] $Kill)
    if ($Scanners.ClamdPid -le 0) { $Scanners.ClamdPid = Get-TestMailPidFile -Path "$($Scanners.ClamdDir)/clamd.pid" }
    Stop-TestMailProcessGroup -MasterPid $Scanners.ClamdPid -Name 'clamd' -Kill:$Kill
    $Scanners.ClamdPid = 0
}

function Start-TestRspamd {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Scanners)
    # $Scanners.DnsTxtRecords: TXT records dnsmasq serves ('name,text[,text]': DKIM keys, _dmarc); everything else is refused.
    # $Scanners.EnableModules: rspamd modules to leave on that are off by default here (e.g. 'arc' to verify ARC seals).
    $dir = $Scanners.RspamdDir
    foreach ($d in 'etc/local.d', 'etc/override.d', 'db', 'run', 'log') { $null = New-Item -ItemType Directory -Path "$dir/$d" -Force }
    # DNS: a dnsmasq with no upstream answers REFUSED at once, so DNS-based checks fail fast instead of timing out.
    $Scanners.DnsPort, $Scanners.DnsmasqPid = Start-TestDnsmasq -Port $Scanners.DnsPort -PidFile "$dir/run/dnsmasq.pid" `
        -ArgumentList (@($Scanners.DnsTxtRecords | ForEach-Object { "--txt-record=$_" }) + @($Scanners.DnsArguments))
    @"
.include "`$CONFDIR/common.conf"
options {
    pidfile = "`$RUNDIR/rspamd.pid";
    .include "`$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "`$LOCAL_CONFDIR/local.d/options.inc"
}
logging {
    type = "file";
    filename = "`$LOGDIR/rspamd.log";
    level = "warning";
}
worker "normal" {
    bind_socket = "127.0.0.1:$($Scanners.RspamdPort)";
    .include "`$CONFDIR/worker-normal.inc"
    count = 1;
}
"@ | Set-Content -LiteralPath "$dir/etc/rspamd.conf"
    # The compiled Hyperscan database is kept between runs (about 30 s to build); it holds no mail and no state.
    @"
dns { nameserver = ["127.0.0.1:$($Scanners.DnsPort)"]; timeout = 1s; retransmits = 1; }
hs_cache_dir = "$($Scanners.HyperscanCache)";
"@ | Set-Content -LiteralPath "$dir/etc/local.d/options.inc"
    # Everything that asks the network (DNS lists, ASN, fuzzy hashes, map downloads, Redis-backed modules) is off.
    # With -VerifySenders (SenderAuth.ps1), rspamd plays a receiving provider: DKIM, SPF, ARC and DMARC against the dnsmasq records.
    foreach ($module in 'rbl', 'hfilter', 'asn', 'fuzzy_check', 'multimap', 'whitelist', 'rspamd_update', 'dkim_signing', 'arc', 'spf', 'dmarc',
        'emails', 'mx_check', 'neural', 'ratelimit', 'greylist', 'reputation', 'history_redis', 'url_redirector' | Where-Object { $Scanners.EnableModules -notcontains $_ }) {
        if ($Scanners.VerifySenders -and $module -in 'arc', 'dmarc', 'spf') { continue }
        Set-Content -LiteralPath "$dir/etc/local.d/$module.conf" -Value 'enabled = false;'
    }
    Set-Content -LiteralPath "$dir/etc/override.d/phishing.conf" -Value "phishtank_enabled = false;`nopenphish_enabled = false;`nexceptions = {};"
    # rspamd's antivirus module asks the same clamd, so rspamd reports viruses too.
    if ($Scanners.ClamdPort) {
        @"
clamav {
  type = "clamav";
  symbol = "CLAM_VIRUS";
  action = "reject";
  servers = "127.0.0.1:$($Scanners.ClamdPort)";
  scan_mime_parts = true;
  scan_text_mime = true;
  timeout = 5.0;
  retransmits = 1;
}
"@ | Set-Content -LiteralPath "$dir/etc/local.d/antivirus.conf"
    }
    $null = New-Item -ItemType Directory -Path $Scanners.HyperscanCache -Force
    & chown -R _rspamd:_rspamd $dir $Scanners.HyperscanCache
    $null = Invoke-TestMailNative -FilePath 'rspamd' -ArgumentList @('-c', "$dir/etc/rspamd.conf", '-u', '_rspamd', '-g', '_rspamd',
        '--var', "LOCAL_CONFDIR=$dir/etc", '--var', "DBDIR=$dir/db", '--var', "RUNDIR=$dir/run", '--var', "LOGDIR=$dir/log")
    $port = $Scanners.RspamdPort
    Wait-TestScannerReady -Probe { Test-TestRspamdPing -Port $port } -What 'rspamd' -LogPath "$dir/log/rspamd.log" -TimeoutSeconds 180
    $Scanners.RspamdPid = Get-TestMailPidFile -Path "$dir/run/rspamd.pid"
}

function Start-TestScanners {
    # Starts clamd and rspamd (-Only to pick); returns the harness object with the addresses to configure.
    [CmdletBinding()]
    # -DnsTxtRecords: TXT records dnsmasq serves; -DnsArguments: more dnsmasq options (--local=/test/); -EnableModules: rspamd
    # modules to keep on; -VerifySenders: rspamd checks ARC, DMARC and SPF too.
    param([ValidateSet('clamd', 'rspamd')] [string[]] $Only = @('clamd', 'rspamd'), [string[]] $DnsTxtRecords = @(), [string[]] $EnableModules = @(),
        [string[]] $DnsArguments = @(), [switch] $VerifySenders)
    $id = (New-TestMailRandomString -Length 8).ToLowerInvariant()
    $root = Join-Path ([IO.Path]::GetTempPath()) "replyadmin-scan-$id"
    $null = New-Item -ItemType Directory -Path $root -Force
    & chmod 0755 $root
    $scanners = [pscustomobject]@{
        Root           = $root
        ClamdDir       = "$root/clamd"
        ClamdSocket    = "$root/clamd/clamd.sock"
        ClamdPort      = 0
        ClamdPid       = 0
        RspamdDir      = "$root/rspamd"
        RspamdPort     = (Get-TestMailFreePort)
        RspamdPid      = 0
        DnsPort        = (Get-TestFreeUdpPort)
        DnsmasqPid     = 0
        HyperscanCache = Join-Path ([IO.Path]::GetTempPath()) 'replyadmin-rspamd-hyperscan'
        ClamdAddress   = $null
        ClamdUnixAddress = $null
        RspamdUrl      = $null
        DnsTxtRecords  = $DnsTxtRecords
        EnableModules  = $EnableModules
        DnsArguments   = $DnsArguments
        VerifySenders  = [bool] $VerifySenders
    }
    try {
        if ($Only -contains 'clamd') {
            Start-TestClamd -Scanners $scanners
            $scanners.ClamdAddress = "tcp://127.0.0.1:$($scanners.ClamdPort)"
            $scanners.ClamdUnixAddress = "unix:$($scanners.ClamdSocket)"
        }
        if ($Only -contains 'rspamd') {
            Start-TestRspamd -Scanners $scanners
            $scanners.RspamdUrl = "http://127.0.0.1:$($scanners.RspamdPort)"
        }
    } catch {
        Stop-TestScanners -Scanners $scanners
        throw
    }
    $scanners
}

function Stop-TestScanners {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Scanners, [switch] $Keep)
    if ($Scanners.RspamdPid -le 0) { $Scanners.RspamdPid = Get-TestMailPidFile -Path "$($Scanners.RspamdDir)/run/rspamd.pid" }
    # rspamd's main process and its workers share its process group.
    if ($Scanners.RspamdPid -gt 0) { Stop-TestMailProcessGroup -MasterPid $Scanners.RspamdPid -Name 'rspamd' }
    if ($Scanners.DnsmasqPid -gt 0) { Stop-TestMailProcessGroup -MasterPid $Scanners.DnsmasqPid -Name 'dnsmasq' }
    Stop-TestClamd -Scanners $Scanners
    if (-not $Keep) { Remove-Item -LiteralPath $Scanners.Root -Recurse -Force -ErrorAction SilentlyContinue }
}
