#Requires -Version 7.0
# Several hosts on one inbound mailbox (issue 12), against the real Dovecot: each "host" is a child pwsh with a
# configuration directory of its own (own journal, own run lock), all alike but for coordination.hostId, sharing
# the inbound folder and the reply folder. Also: a staff member moving messages away while a run works, and the
# measurement that per-message UID MOVE is no claim on this Dovecot.
# Size: REPLYADMIN_HOSTS_MESSAGES (default 500 for two hosts, 600 for the 3-host chaos), REPLYADMIN_HOSTS_SEED.
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

Describe 'Per-message UID MOVE on this Dovecot' -Tag Integration {
    It 'Is no claim: three sessions moving the same UIDs make more copies than there were messages' {
        $folder = "Race-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $count = 150
        $bytes = @(foreach ($i in 1..$count) { , (New-ResilienceReply -Token 'race' -Seq $i) })
        Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $folder -Messages $bytes
        $clients = @(foreach ($i in 1..3) { Connect-TestImap -Server $server -User 'inbound@example.test' })
        try {
            $sessions = @(foreach ($i in 0..2) {
                    $inbox = Get-TestImapFolder -Client $clients[$i] -Folder $folder
                    $target = Get-TestImapFolder -Client $clients[$i] -Folder "$folder/Claim$i" -Create
                    [void] $inbox.Open('ReadWrite')
                    [pscustomobject]@{ Inbox = $inbox; Target = $target } })
            $uids = @($sessions[0].Inbox.Search((Get-ReplyAdminType 'MailKit.Search.SearchQuery')::All))
            # Each session claims one UID at a time, all three at once, as a naive "first MOVE wins" claim would.
            foreach ($uid in $uids) {
                $tasks = @(foreach ($s in $sessions) { $s.Inbox.MoveToAsync($uid, $s.Target) })
                try { [Threading.Tasks.Task]::WaitAll([Threading.Tasks.Task[]] $tasks) } catch { }
            }
            $copies = 0
            foreach ($s in $sessions) { [void] $s.Target.Open('ReadOnly'); $copies += $s.Target.Count }
        }
        finally { foreach ($c in $clients) { $c.Disconnect($true); $c.Dispose() } }
        Write-Host "Naive UID MOVE claims: $count messages, 3 sessions -> $copies copies."
        $copies | Should -BeGreaterThan $count
    }
}

Describe 'Get-ReplyLease' -Tag Integration {
    BeforeAll {
        $hosts = New-HostsScenario -Count 2 -Messages 3 -Ttl 30
    }

    It 'Shows a source never processed as free' {
        $lease = Get-ReplyLease -ConfigPath $hosts.Configs[0]
        $lease.State | Should -Be 'Free'
        $lease.Epoch | Should -Be 0
    }

    It 'Shows the host of the last run, released, and a higher epoch after every run' {
        $null = Invoke-ReplyProcessing -ConfigPath $hosts.Configs[0]
        $first = Get-ReplyLease -ConfigPath $hosts.Configs[1]
        $first.Holder | Should -Be 'host-1'
        $first.State | Should -Be 'Released'
        $first.Epoch | Should -Be 1
        $first.Since | Should -Not -BeNullOrEmpty
        $null = Invoke-ReplyProcessing -ConfigPath $hosts.Configs[1]
        $second = Get-ReplyLease -ConfigPath $hosts.Configs[0]
        $second.Holder | Should -Be 'host-2'
        $second.Epoch | Should -Be 2
    }

    It 'Lists the source folder and every shard, each with its own holder and epoch, after a run over shards' {
        $sharded = New-ShardedHostsScenario -Count 2 -Messages 30
        $delivered = $sharded.Inputs
        # -WhatIf reads every unit and takes no lease.
        (Invoke-ReplyProcessing -ConfigPath $sharded.Configs[1] -Summary -WhatIf).Total | Should -Be $delivered.Count
        @(Get-ReplyLease -ConfigPath $sharded.Configs[0] | Where-Object State -ne 'Free') | Should -BeNullOrEmpty
        $summary = Invoke-ReplyProcessing -ConfigPath $sharded.Configs[1] -Summary
        $summary.Stored | Should -Be $delivered.Count
        @($summary.Units) | Should -HaveCount 4
        $leases = @(Get-ReplyLease -ConfigPath $sharded.Configs[0])
        $leases.Unit | Should -Be $sharded.Units
        foreach ($lease in $leases) {
            $lease.Holder | Should -Be 'host-2'
            $lease.State | Should -Be 'Released'
            $lease.Epoch | Should -Be 1
        }
        (Measure-Hosts $sharded).Losses | Should -Be 0
    }

    It 'Returns nothing for a directory source' {
        $scenario = New-ResilienceScenario
        Get-ReplyLease -ConfigPath $scenario.Config | Should -BeNullOrEmpty
    }
}

Describe 'Two hosts on one inbound mailbox' -Tag Integration {
    BeforeAll {
        $messages = if ($env:REPLYADMIN_HOSTS_MESSAGES) { [int] $env:REPLYADMIN_HOSTS_MESSAGES } else { 500 }
        $hosts = New-HostsScenario -Count 2 -Messages $messages -Ttl 30
        # Started together, three times over (as two schedules would), then checked.
        $exitCodes = [Collections.Generic.List[int]]::new()
        $watch = [Diagnostics.Stopwatch]::StartNew()
        foreach ($round in 1..3) {
            $children = @(foreach ($config in $hosts.Configs) { Start-ResilienceChild -ConfigPath $config -TimeoutSeconds 30 -ResultPath "$config.round$round.json" })
            foreach ($child in $children) { $null = Wait-ResilienceChild -Process $child -TimeoutSeconds 170; $exitCodes.Add($child.ExitCode); $child.Dispose() }
            foreach ($config in $hosts.Configs) { if (Test-Path "$config.round$round.json.error") { Write-Host "Round $round, $config`: $(Get-Content -Raw "$config.round$round.json.error")" } }
        }
        $outcome = Measure-Hosts $hosts
        $journal = @(Get-HostJournal $hosts.Configs)
        Write-Host (("Two hosts: $messages messages in {0:0.0} s; stored $($outcome.Stored), duplicates $($outcome.Duplicates), losses $($outcome.Losses), notices $($outcome.Notices), " +
            "exit codes $($exitCodes -join ','), $(@($journal | Group-Object { $_.runId }).Count) run(s) with work.") -f $watch.Elapsed.TotalSeconds)
    }

    It 'Stores every message exactly once and no notice' {
        $outcome.Duplicates | Should -Be 0
        $outcome.Losses | Should -Be 0
        $outcome.Notices | Should -Be 0
        $outcome.Stored | Should -Be $hosts.Inputs.Count
        $outcome.Waiting | Should -Be 0
    }

    It 'Ends every run without a terminating error' {
        $exitCodes | Should -Not -Contain 1
    }

    It 'Reports no message Done twice' {
        $done = @($journal | Where-Object outcome -eq 'Done')
        $done | Should -HaveCount $hosts.Inputs.Count
    }

    It 'Stores every message exactly once when both hosts start the native runner together' {
        $pair = New-HostsScenario -Count 2 -Messages 40 -Ttl 30
        $out = "$($pair.Configs[1]).out"
        $other = Start-Process -FilePath (Get-NativeRunnerPath) -ArgumentList '-ConfigPath', $pair.Configs[1], '-TimeoutSeconds', '30' -RedirectStandardOutput $out -RedirectStandardError "$out.err" -PassThru
        $run = Invoke-ScheduledRun $pair.Configs[0] -Program Native -Arguments '-TimeoutSeconds', '30'
        $other.WaitForExit(60000) | Should -BeTrue
        $run.ExitCode | Should -Be 0 -Because ($run.Output -join "`n")
        $other.ExitCode | Should -Be 0 -Because (Get-Content -Raw "$out.err")
        $summaries = @(@($run.Output) + @(Get-Content $out) | Where-Object { $_ -match '^ReplyAdmin run \S+: \d+ messages: (\d+) stored \(0 forwarded, 0 unrouted\), 0 excluded, 0 rejected, 0 failed' })
        $summaries | Should -HaveCount 2
        ($summaries | ForEach-Object { [int] ($_ -replace '^.*messages: (\d+) stored.*$', '$1') } | Measure-Object -Sum).Sum | Should -Be $pair.Inputs.Count
        $outcome = Measure-Hosts $pair
        $outcome.Duplicates | Should -Be 0
        $outcome.Losses | Should -Be 0
        $outcome.Stored | Should -Be $pair.Inputs.Count
        $outcome.Waiting | Should -Be 0
        (Get-ReplyLease -ConfigPath $pair.Configs[0]).State | Should -Be 'Released' -Because 'the native runner gives the lease back at its end'
    }

    It 'Takes, uses and gives back the lease of every shard when the native runner runs over shards, without waiting out a timeout' {
        # The runner lets socket completions run on the socket threads: a connection closed synchronously there (LOGOUT, a
        # lease's release) would wait out the network timeout (60 s here) instead of ending the run.
        $sharded = New-ShardedHostsScenario -Count 1 -Messages 30
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $run = Invoke-ScheduledRun $sharded.Configs[0] -Program Native -Arguments '-TimeoutSeconds', '60'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30 -Because ($run.Output -join "`n")
        $run.ExitCode | Should -Be 0 -Because ($run.Output -join "`n")
        $outcome = Measure-Hosts $sharded
        $outcome.Losses | Should -Be 0
        $outcome.Duplicates | Should -Be 0
        $outcome.Stored | Should -Be $sharded.Inputs.Count
        @(Get-ReplyLease -ConfigPath $sharded.Configs[0]).State | Sort-Object -Unique | Should -Be 'Released'
    }
}

Describe 'A staff member moving messages while a run works' -Tag Integration {
    BeforeAll {
        $hosts = New-HostsScenario -Count 1 -Messages 300 -Ttl 30
        $scenario = $hosts.Scenario
        $staffFolder = "$($scenario.InboundFolder)/Staff"
        $child = Start-ResilienceChild -ConfigPath $scenario.Config -TimeoutSeconds 30
        # Meanwhile: move every third message still waiting to a folder of the staff's own, a few at a time.
        $client = Connect-TestImap -Server $server -User 'inbound@example.test'
        $movedByStaff = 0
        try {
            $inbox = Get-TestImapFolder -Client $client -Folder $scenario.InboundFolder
            $staff = Get-TestImapFolder -Client $client -Folder $staffFolder -Create
            [void] $inbox.Open('ReadWrite')
            # Once the run has listed the folder (its first batch is claimed), newest first: messages the run listed and has not reached yet.
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not $child.HasExited -and [DateTime]::UtcNow -lt $deadline -and
                @($inbox.Search((Get-ReplyAdminType 'MailKit.Search.SearchQuery')::HasKeywords([string[]] @('ReplyAdmin-Claimed')))).Count -eq 0) { Start-Sleep -Milliseconds 20 }
            while (-not $child.HasExited) {
                $uids = @($inbox.Search((Get-ReplyAdminType 'MailKit.Search.SearchQuery')::All))
                $pick = @($uids | Where-Object { $_.Id % 3 -eq 0 } | Sort-Object Id -Descending | Select-Object -First 2)
                if ($pick.Count -gt 0) {
                    try { $map = $inbox.MoveTo(($pick -as (Get-ReplyAdminType 'MailKit.UniqueId').MakeArrayType()), $staff); $movedByStaff += $map.Source.Count } catch { }
                }
                Start-Sleep -Milliseconds 30
            }
        }
        finally { $client.Disconnect($true); $client.Dispose() }
        $exit = $child.ExitCode
        $child.Dispose()
        $journal = @(Get-ResilienceJournal $scenario.Config)
        $inStaff = @(Get-ResilienceStored $scenario -User 'inbound@example.test' -Folder $staffFolder | ForEach-Object { Get-ResilienceSeq $_.Bytes })
        $inProcessed = @(Get-ResilienceStored $scenario -User 'inbound@example.test' -Folder "$($scenario.InboundFolder)/Processed" | ForEach-Object { Get-ResilienceSeq $_.Bytes })
        $stillWaiting = @(Get-ResilienceStored $scenario -User 'inbound@example.test' -Folder $scenario.InboundFolder | ForEach-Object { Get-ResilienceSeq $_.Bytes })
        $outcome = Measure-Hosts $hosts
        # The next run settles whatever the race left waiting (stored already, or not yet): nothing may stay, be lost or doubled.
        $null = Invoke-ReplyProcessing -ConfigPath $scenario.Config
        $inProcessedAfter = @(Get-ResilienceStored $scenario -User 'inbound@example.test' -Folder "$($scenario.InboundFolder)/Processed" | ForEach-Object { Get-ResilienceSeq $_.Bytes })
        $outcomeAfter = Measure-Hosts $hosts
        Write-Host "Staff moves: $movedByStaff of 300 moved away during the run; Gone results $(@($journal | Where-Object outcome -eq 'Gone').Count), notices $($outcome.Notices), exit code $exit; left waiting after the run $($stillWaiting.Count), after the next run $($outcomeAfter.Waiting)."
    }

    It 'Ends the run without a terminating error and stores no notice' {
        $exit | Should -Be 0
        $outcome.Notices | Should -Be 0
        @($journal | Where-Object { $_.actions -match 'Notice stored' }) | Should -BeNullOrEmpty
    }

    It 'Reports Done only for messages that are in Processed, and each of them once' {
        $movedByStaff | Should -BeGreaterThan 0
        $done = @($journal | Where-Object outcome -eq 'Done')
        $done.Count | Should -Be $inProcessed.Count
        # Each input is in Processed, with the staff, or still waiting for the next run (a message whose move raced the
        # staff's is left where it is): none is lost. (In Processed and with the staff, rarely: Dovecot's UID MOVE is not
        # exclusive, so both MOVEs can take the same message; the run then reports it Done, rightly.)
        @($hosts.Inputs | Where-Object { $_.Seq -notin $inStaff -and $_.Seq -notin $inProcessed -and $_.Seq -notin $stillWaiting }) | Should -BeNullOrEmpty
        $outcome.Duplicates | Should -Be 0
    }

    It 'Leaves nothing for later: the next run settles what the race left waiting, losing and doubling none' {
        $outcomeAfter.Waiting | Should -Be 0
        @($hosts.Inputs | Where-Object { $_.Seq -notin $inStaff -and $_.Seq -notin $inProcessedAfter }) | Should -BeNullOrEmpty
        $outcomeAfter.Duplicates | Should -Be 0
        $outcomeAfter.Notices | Should -Be 0
    }

    It 'Reports the messages moved away under the run''s feet as Gone' {
        @($journal | Where-Object outcome -eq 'Gone').Count | Should -BeGreaterThan 0
    }

    It 'Counts no failed attempt for a message that is gone' {
        @($journal | Where-Object { $_.actions -match 'Attempt \d+ of' }) | Should -BeNullOrEmpty
    }
}

Describe 'ImapReplySource.MoveAsync when a person took a message just before' -Tag Integration {
    It 'Marks that message Gone and moves the rest, failing none' {
        $taken = New-SourceWithTakenMessage -Index 2
        try {
            $processed = (Get-ReplyAdminType 'ReplyAdmin.Engine.Processing.SourceDestination')::Processed
            $taken.Source.MoveAsync($taken.Listed, $processed, 'test', [Threading.CancellationToken]::None).GetAwaiter().GetResult()
        }
        finally { $taken.Source.Dispose() }
        $listed = $taken.Listed
        $listed[2].Gone | Should -BeTrue
        $listed[2].AcknowledgedTo | Should -BeNullOrEmpty
        @($listed | Where-Object { $_.AcknowledgedTo }) | Should -HaveCount 5
        (Get-WaitingCount $taken.Hosts) | Should -Be 0
    }
}

Describe 'ImapReplySource.LoadHeadersAsync when a person took a message just before' -Tag Integration {
    It 'Marks that message Gone and reads the headers of the rest' {
        $taken = New-SourceWithTakenMessage -Index 4
        try { $taken.Source.LoadHeadersAsync($taken.Listed, [Threading.CancellationToken]::None).GetAwaiter().GetResult() }
        finally { $taken.Source.Dispose() }
        $listed = $taken.Listed
        $listed[4].Gone | Should -BeTrue
        $listed[4].Headers | Should -BeNullOrEmpty
        $listed[4].HeaderError | Should -BeNullOrEmpty
        @($listed | Where-Object { $_.Headers -and $_.Headers['Message-ID'] }) | Should -HaveCount 5
        @($listed | Where-Object Gone) | Should -HaveCount 1
    }
}

Describe 'Forwards repeated on another host' -Tag Integration {
    It 'Carry the same Resent-Message-ID, derived from the content, so the repeat is recognisable' {
        $scenario = New-ResilienceScenario -Lists @(@{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' })
        Set-ResilienceImapSource $scenario
        Set-HostIdentity $scenario.Config 'host-1' 30
        $other = New-HostConfig $scenario 'host-2' 30
        $bytes = New-ResilienceReply -Token $scenario.Token -Seq 1
        # The same reply handled twice, by two hosts (as after a takeover between forward and mark).
        Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @(, $bytes)
        $null = Invoke-ReplyProcessing -ConfigPath $scenario.Config
        Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @(, $bytes)
        $null = Invoke-ReplyProcessing -ConfigPath $other
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        do {
            $forwards = @(Get-ResilienceForwarded $scenario -Expected 1 | Where-Object { (Get-ResilienceSeq $_.Bytes) -eq "$($scenario.Token)-1" })
            if ($forwards.Count -ge 2) { break }
            Start-Sleep -Milliseconds 300
        } while ([DateTime]::UtcNow -lt $deadline)
        $forwards | Should -HaveCount 2
        $ids = @($forwards | ForEach-Object { if ([Text.Encoding]::UTF8.GetString($_.Bytes) -match '(?m)^Resent-Message-ID:\s*(<[^>]+>)') { $Matches[1] } })
        $ids | Should -HaveCount 2
        $ids[0] | Should -Match '^<fwd\.[0-9a-f]{32}@'
        $ids[1] | Should -Be $ids[0]
    }
}
