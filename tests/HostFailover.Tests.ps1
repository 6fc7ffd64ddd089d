#Requires -Version 7.0
# Failover between hosts sharing one inbound mailbox (issue 12), against the real Dovecot: a host stalled (SIGSTOP)
# past its lease, and three hosts killed (SIGKILL) and stalled at random, then a final run. Short times to live
# (8 and 6 s) keep the file near three minutes. Size: REPLYADMIN_HOSTS_MESSAGES (default 2000), REPLYADMIN_HOSTS_SEED.
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    . "$PSScriptRoot/Support/Resilience.ps1"
    $server = Start-TestMailServer
    $seed = if ($env:REPLYADMIN_HOSTS_SEED) { [int] $env:REPLYADMIN_HOSTS_SEED } else { 20261129 }

    . "$PSScriptRoot/Support/Hosts.ps1"
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
    if (Get-Command Remove-ResilienceScenario -ErrorAction SilentlyContinue) { Remove-ResilienceScenario }
}

Describe 'A host that stalls past its lease' -Tag Integration {
    BeforeAll {
        $ttl = 8
        $hosts = New-HostsScenario -Count 2 -Messages 400 -Ttl $ttl
        $first = Start-ResilienceChild -ConfigPath $hosts.Configs[0] -TimeoutSeconds 30 -ResultPath "$($hosts.Configs[0]).json"
        # Stopped once it holds the lease and has stored part of the source.
        $deadline = [DateTime]::UtcNow.AddSeconds(90)
        while (-not $first.HasExited -and [DateTime]::UtcNow -lt $deadline -and (Get-ResilienceJournalCount $hosts.Configs[0]) -lt 50) { Start-Sleep -Milliseconds 20 }
        & kill -STOP $first.Id
        $before = Get-ReplyLease -ConfigPath $hosts.Configs[1]
        Start-Sleep -Seconds ($ttl + 2)
        $expired = Get-ReplyLease -ConfigPath $hosts.Configs[1]
        $second = Start-ResilienceChild -ConfigPath $hosts.Configs[1] -TimeoutSeconds 30
        # The new holder is at work when the stalled one wakes up.
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not $second.HasExited -and [DateTime]::UtcNow -lt $deadline -and (Get-ReplyLease -ConfigPath $hosts.Configs[1]).Holder -ne 'host-2') { Start-Sleep -Milliseconds 100 }
        $during = Get-ReplyLease -ConfigPath $hosts.Configs[1]
        & kill -CONT $first.Id
        $null = Wait-ResilienceChild -Process $first -TimeoutSeconds 120
        $null = Wait-ResilienceChild -Process $second -TimeoutSeconds 120
        $firstExit = $first.ExitCode
        $secondExit = $second.ExitCode
        $first.Dispose(); $second.Dispose()
        $firstError = if (Test-Path "$($hosts.Configs[0]).json.error") { Get-Content -Raw "$($hosts.Configs[0]).json.error" } else { '' }
        $outcome = Measure-Hosts $hosts
        Write-Host "Stall past the lease: epochs $($before.Epoch) -> $($during.Epoch) ($($during.Holder)); stalled host exit $firstExit ($(($firstError -split "`n")[0])); stored $($outcome.Stored), duplicates $($outcome.Duplicates), losses $($outcome.Losses), waiting $($outcome.Waiting)."
    }

    It 'Shows the stalled lease expired, then taken over with a higher epoch' {
        $before.Holder | Should -Be 'host-1'
        $expired.State | Should -Be 'Expired'
        $during.Holder | Should -Be 'host-2'
        $during.Epoch | Should -BeGreaterThan $before.Epoch
    }

    It 'Stops the stalled host with LeaseLost, and the new holder finishes' {
        $firstExit | Should -Be 1
        $firstError | Should -Match 'LeaseLost'
        $secondExit | Should -Be 0
    }

    It 'Stores every message exactly once' {
        $outcome.Waiting | Should -Be 0
        $outcome.Losses | Should -Be 0
        $outcome.Duplicates | Should -Be 0
        $outcome.Stored | Should -Be $hosts.Inputs.Count
    }
}

Describe 'Three hosts killed and stalled at random' -Tag Integration, Soak {
    BeforeAll {
        $messages = if ($env:REPLYADMIN_HOSTS_MESSAGES) { [int] $env:REPLYADMIN_HOSTS_MESSAGES } else { 2000 }
        $ttl = 6
        $killTarget = 10
        $stopTarget = 3
        $hosts = New-HostsScenario -Count 3 -Messages $messages -Ttl $ttl
        $random = [Random]::new($seed)
        $running = @{}
        $epochs = [Collections.Generic.List[long]]::new()
        $stats = [ordered]@{ Kills = 0; Stops = 0; HolderKills = 0; HolderStops = 0; Starts = 0 }
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        $nextEvent = [DateTime]::UtcNow.AddMilliseconds($random.Next(1500, 3000))
        while ([DateTime]::UtcNow -lt $deadline) {
            # Every host keeps a run going (as a schedule every few seconds would); a host whose run ended starts the next.
            for ($i = 0; $i -lt 3; $i++) {
                if (-not $running.ContainsKey($i) -or $running[$i].HasExited) {
                    if ($running.ContainsKey($i)) { $running[$i].Dispose() }
                    $running[$i] = Start-ResilienceChild -ConfigPath $hosts.Configs[$i] -TimeoutSeconds 30
                    $stats.Starts++
                }
            }
            $lease = Get-ReplyLease -ConfigPath $hosts.Configs[0] -ErrorAction SilentlyContinue
            if ($lease) { $epochs.Add($lease.Epoch) }
            $done = $stats.Kills -ge $killTarget -and $stats.Stops -ge $stopTarget
            if ((Get-WaitingCount $hosts) -eq 0) { break }
            # Only while a host holds the lease and works: mostly that host, where a kill or a stall costs something.
            if (-not $done -and [DateTime]::UtcNow -ge $nextEvent -and $lease -and $lease.State -eq 'Held' -and $lease.Holder -match '^host-(\d)$') {
                $holder = [int] $Matches[1] - 1
                $victim = if ($random.Next(0, 5) -eq 0) { $random.Next(0, 3) } else { $holder }
                $process = $running[$victim]
                if (-not $process.HasExited) {
                    if ($stats.Stops -lt $stopTarget -and ($random.Next(0, 3) -eq 0 -or $stats.Kills -ge $killTarget)) {
                        # A stall longer than the time to live: another host takes over; this one must then do nothing more.
                        & kill -STOP $process.Id
                        Start-Sleep -Seconds ($ttl + 3)
                        & kill -CONT $process.Id
                        $stats.Stops++
                        if ($victim -eq $holder) { $stats.HolderStops++ }
                    }
                    else {
                        $process.Kill()
                        $process.WaitForExit()
                        $stats.Kills++
                        if ($victim -eq $holder) { $stats.HolderKills++ }
                    }
                }
                $nextEvent = [DateTime]::UtcNow.AddMilliseconds($random.Next(800, 2000))
            }
            Start-Sleep -Milliseconds 300
        }
        foreach ($p in $running.Values) { if (-not $p.HasExited) { $p.Kill() }; $p.WaitForExit(); $p.Dispose() }
        # The final run: host 1 until the source is empty (a dead holder's lease expires after the time to live).
        $finalCodes = @()
        for ($attempt = 0; $attempt -lt 4 -and (Get-WaitingCount $hosts) -gt 0; $attempt++) {
            if ($attempt -gt 0) { Start-Sleep -Seconds ($ttl + 1) }
            $final = Start-ResilienceChild -ConfigPath $hosts.Configs[0] -TimeoutSeconds 30
            $null = Wait-ResilienceChild -Process $final -TimeoutSeconds 120
            $finalCodes += $final.ExitCode
            $final.Dispose()
        }
        $lastLease = Get-ReplyLease -ConfigPath $hosts.Configs[0]
        $epochs.Add($lastLease.Epoch)
        $outcome = Measure-Hosts $hosts
        $journal = @(Get-HostJournal $hosts.Configs)
        Write-Host (("Three hosts: $messages messages, time to live $ttl s, $($stats.Kills) SIGKILLs ($($stats.HolderKills) of the holder), $($stats.Stops) SIGSTOPs of $($ttl + 3) s ($($stats.HolderStops) of the holder), " +
            "$($stats.Starts) runs started, {0:0} s; final epoch $($lastLease.Epoch); stored $($outcome.Stored), duplicates $($outcome.Duplicates), losses $($outcome.Losses), " +
            "notices $($outcome.Notices), waiting $($outcome.Waiting); LeaseLost runs $(@($journal | Where-Object { $_.PSObject.Properties['errorId'] -and $_.errorId -eq 'LeaseLost' }).Count) results.") -f $watch.Elapsed.TotalSeconds)
    }

    It 'Injected kills and stalls of the working holder' {
        ($stats.HolderKills + $stats.HolderStops) | Should -BeGreaterOrEqual 3
        $stats.HolderStops | Should -BeGreaterOrEqual 1
    }

    It 'Stores every message exactly once and loses none' {
        $outcome.Waiting | Should -Be 0
        $outcome.Losses | Should -Be 0
        $outcome.Duplicates | Should -Be 0
        $outcome.Notices | Should -Be 0
        $outcome.Stored | Should -Be $hosts.Inputs.Count
    }

    It 'Never lets an epoch go back' {
        for ($i = 1; $i -lt $epochs.Count; $i++) { $epochs[$i] | Should -BeGreaterOrEqual $epochs[$i - 1] }
        # Every stall of the holder forces a takeover by another host, under a new epoch.
        $lastLease.Epoch | Should -BeGreaterThan $stats.HolderStops
    }
}
