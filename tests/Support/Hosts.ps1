# Helpers of the several-hosts tests: each "host" is a configuration directory of its own (own journal and run lock),
# alike but for coordination.hostId, sharing the inbound folder and the reply folder. Dot-source after Resilience.ps1;
# expects $server in the caller's scope.
Set-StrictMode -Version Latest

# Sets coordination.hostId and the lease's time to live in a configuration file.
function Set-HostIdentity([string] $Config, [string] $HostId, [int] $Ttl = 60, [int] $Shards = 0) {
    $json = Get-Content -Raw $Config | ConvertFrom-Json -AsHashtable
    $json['coordination'] = @{ hostId = $HostId; leaseTimeToLiveSeconds = $Ttl }
    if ($Shards -gt 0) { $json['coordination']['shards'] = $Shards }
    $json | ConvertTo-Json -Depth 10 | Set-Content -LiteralPath $Config -Encoding utf8
}

# A further host for a scenario: the same configuration in a directory of its own, with its own host id.
function New-HostConfig($Scenario, [string] $HostId, [int] $Ttl, [int] $Shards = 0) {
    $dir = Join-Path ([IO.Path]::GetTempPath()) ("replyadmin-host-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $dir
    $script:ResilienceScenarioDirs.Add($dir)
    $config = Join-Path $dir 'config.json'
    Copy-Item -LiteralPath $Scenario.Config -Destination $config
    Set-HostIdentity $config $HostId $Ttl $Shards
    $config
}

# -Later: the inputs are made but not delivered (Send-HostsInput delivers them, e.g. in waves). -FirstBodyBytes: the
# size of the first reply's body (a large one keeps its APPEND on the wire long enough to stop a host in it).
function New-HostsScenario([int] $Count, [int] $Messages, [int] $Ttl, [int] $Shards = 0, [int] $ForwardEvery = 0, [switch] $Later, [int] $FirstBodyBytes = 0) {
    $lists = @(@{ Name = 'news'; Address = 'news@example.test' })
    if ($ForwardEvery -gt 0) { $lists += @{ Name = 'fwd'; Address = 'fwd@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' } }
    $scenario = New-ResilienceScenario -Lists $lists
    Set-ResilienceImapSource $scenario
    $inputs = @(foreach ($seq in 1..$Messages) {
            $to = if ($ForwardEvery -gt 0 -and $seq % $ForwardEvery -eq 0) { 'fwd@example.test' } else { 'news@example.test' }
            # With shards: Message-IDs that end in every digit (the shard rule reads the character before the '@'), and
            # now and then none at all (such a reply stays in the source folder, a unit of its own).
            $reply = if ($Shards -gt 0 -and $seq % 37 -eq 0) { @{ NoMessageId = $true } } elseif ($Shards -gt 0) { @{ MessageId = "$($scenario.Token).r$seq@customer.test" } } else { @{} }
            [pscustomobject]@{ Seq = "$($scenario.Token)-$seq"; To = $to; MessageId = $reply['MessageId']
                Bytes = (New-ResilienceReply -Token $scenario.Token -Seq $seq -To $to -BodyBytes $(if ($seq -eq 1 -and $FirstBodyBytes) { $FirstBodyBytes } else { 400 + ($seq * 53) % 2500 }) @reply) } })
    $units = @((Get-ReplyAdminType 'ReplyAdmin.Engine.Leases.ShardRule')::Units($scenario.InboundFolder, $Shards))
    Set-HostIdentity $scenario.Config 'host-1' $Ttl $Shards
    $configs = @($scenario.Config) + @(if ($Count -gt 1) { foreach ($i in 2..$Count) { New-HostConfig $scenario "host-$i" $Ttl $Shards } })
    $hosts = [pscustomobject]@{ Scenario = $scenario; Inputs = $inputs; Configs = $configs; Units = $units; Shards = $Shards }
    if (-not $Later) { Send-HostsInput $hosts $inputs }
    $hosts
}

# The delivery side's part (the Sieve script of Get-ReplyShardSieveScript does the same): each reply into its shard.
function Send-HostsInput($Hosts, $Inputs) {
    $rule = Get-ReplyAdminType 'ReplyAdmin.Engine.Leases.ShardRule'
    $folder = $Hosts.Scenario.InboundFolder
    foreach ($group in $Inputs | Group-Object { $s = $rule::ShardOf($_.MessageId, $Hosts.Shards); if ($null -eq $s) { $folder } else { $rule::ShardFolder($folder, $s) } }) {
        Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $group.Name -Messages @($group.Group | ForEach-Object { , $_.Bytes })
    }
}

# A scenario over 3 shards, delivered except shard 2, whose folder then does not exist yet (the delivery side creates it
# with its first reply). Its Inputs are what was delivered, what Measure-Hosts then looks for.
function New-ShardedHostsScenario([int] $Count, [int] $Messages) {
    $sharded = New-HostsScenario -Count $Count -Messages $Messages -Ttl 30 -Shards 3 -Later
    $rule = Get-ReplyAdminType 'ReplyAdmin.Engine.Leases.ShardRule'
    $sharded.Inputs = @($sharded.Inputs | Where-Object { $rule::ShardOf($_.MessageId, 3) -ne 2 })
    Send-HostsInput $sharded $sharded.Inputs
    $sharded
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

# Messages waiting in the inbound folder and its shards (a count only: hosts move messages meanwhile).
function Get-WaitingCount($Hosts) {
    $client = Connect-TestImap -Server $server -User 'inbound@example.test'
    try {
        $n = 0
        foreach ($unit in $Hosts.Units) {
            $inbox = Get-TestImapFolder -Client $client -Folder $unit
            if ($null -eq $inbox) { continue }
            [void] $inbox.Open('ReadOnly')
            $n += $inbox.Count
            [void] $inbox.Close($false)
        }
        $n
    }
    finally { $client.Disconnect($true); $client.Dispose() }
}

function Get-HostJournal([string[]] $Configs) { foreach ($c in $Configs) { Get-ResilienceJournal $c } }

# An ImapReplySource on a one-host scenario of 6 messages, opened and listed as the engine lists them, after which
# another session (a person) moves listed message -Index away while this one still has the folder selected. The
# caller disposes .Source.
function New-SourceWithTakenMessage([int] $Index) {
    $single = New-HostsScenario -Count 1 -Messages 6 -Ttl 30
    $settings = Get-ReplySource -ConfigPath $single.Scenario.Config
    $credential = [Net.NetworkCredential]::new('inbound@example.test', $env:REPLYADMIN_TEST_INBOUND_PW)
    $none = [Threading.CancellationToken]::None
    $source = (Get-ReplyAdminType 'ReplyAdmin.Engine.Imap.ImapReplySource')::new($settings, $credential, [TimeSpan]::FromSeconds(30), $false)
    try {
        $null = $source.OpenAsync($none).GetAwaiter().GetResult() # a Task<bool> underneath
        $listed = $source.ListAsync($none).GetAwaiter().GetResult()
        $client = Connect-TestImap -Server $server -User 'inbound@example.test'
        try {
            $inbox = Get-TestImapFolder -Client $client -Folder $single.Scenario.InboundFolder
            $staff = Get-TestImapFolder -Client $client -Folder "$($single.Scenario.InboundFolder)/Staff" -Create
            [void] $inbox.Open('ReadWrite')
            $null = $inbox.MoveTo($listed[$Index].Handle, $staff)
        }
        finally { $client.Disconnect($true); $client.Dispose() }
    }
    catch { $source.Dispose(); throw }
    [pscustomobject]@{ Source = $source; Listed = $listed; Hosts = $single }
}
