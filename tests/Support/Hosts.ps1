# Helpers of the several-hosts tests: each "host" is a configuration directory of its own (own journal and run lock),
# alike but for coordination.hostId, sharing the inbound folder and the reply folder. Dot-source after Resilience.ps1;
# expects $server in the caller's scope.
Set-StrictMode -Version Latest

# Sets coordination.hostId and the lease's time to live in a configuration file.
function Set-HostIdentity([string] $Config, [string] $HostId, [int] $Ttl = 60) {
    $json = Get-Content -Raw $Config | ConvertFrom-Json -AsHashtable
    $json['coordination'] = @{ hostId = $HostId; leaseTimeToLiveSeconds = $Ttl }
    $json | ConvertTo-Json -Depth 10 | Set-Content -LiteralPath $Config -Encoding utf8
}

# A further host for a scenario: the same configuration in a directory of its own, with its own host id.
function New-HostConfig($Scenario, [string] $HostId, [int] $Ttl) {
    $dir = Join-Path ([IO.Path]::GetTempPath()) ("replyadmin-host-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $dir
    $script:ResilienceScenarioDirs.Add($dir)
    $config = Join-Path $dir 'config.json'
    Copy-Item -LiteralPath $Scenario.Config -Destination $config
    Set-HostIdentity $config $HostId $Ttl
    $config
}

function New-HostsScenario([int] $Count, [int] $Messages, [int] $Ttl) {
    $scenario = New-ResilienceScenario -Lists @(@{ Name = 'news'; Address = 'news@example.test' })
    Set-ResilienceImapSource $scenario
    $inputs = @(foreach ($seq in 1..$Messages) {
            [pscustomobject]@{ Seq = "$($scenario.Token)-$seq"; Bytes = (New-ResilienceReply -Token $scenario.Token -Seq $seq -BodyBytes (400 + ($seq * 53) % 2500)) } })
    Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @($inputs | ForEach-Object { , $_.Bytes })
    Set-HostIdentity $scenario.Config 'host-1' $Ttl
    $configs = @($scenario.Config) + @(foreach ($i in 2..$Count) { New-HostConfig $scenario "host-$i" $Ttl })
    [pscustomobject]@{ Scenario = $scenario; Inputs = $inputs; Configs = $configs }
}

# The reply folder against the inputs: copies per input (by X-Test-Seq), notices, losses.
function Measure-Hosts($Hosts) {
    $stored = @(Get-ResilienceStored $Hosts.Scenario)
    $bySeq = @{}
    $notices = 0
    foreach ($m in $stored) {
        $s = Get-ResilienceSeq $m.Bytes
        if (-not $s) { $notices++; continue }
        if (-not $bySeq.ContainsKey($s)) { $bySeq[$s] = 0 }
        $bySeq[$s]++
    }
    [pscustomobject]@{
        Stored     = $stored.Count
        Duplicates = @($bySeq.Values | Where-Object { $_ -gt 1 } | ForEach-Object { $_ - 1 } | Measure-Object -Sum).Sum
        Losses     = @($Hosts.Inputs | Where-Object { -not $bySeq.ContainsKey($_.Seq) }).Count
        Notices    = $notices
        Waiting    = Get-WaitingCount $Hosts
    }
}

# Messages waiting in the inbound folder (a count only: hosts move messages meanwhile).
function Get-WaitingCount($Hosts) {
    $client = Connect-TestImap -Server $server -User 'inbound@example.test'
    try {
        $inbox = Get-TestImapFolder -Client $client -Folder $Hosts.Scenario.InboundFolder
        [void] $inbox.Open('ReadOnly')
        $inbox.Count
    }
    finally { $client.Disconnect($true); $client.Dispose() }
}

function Get-HostJournal([string[]] $Configs) { foreach ($c in $Configs) { Get-ResilienceJournal $c } }
