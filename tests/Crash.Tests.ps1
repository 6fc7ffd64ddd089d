#Requires -Version 7.0
# Crash safety: Invoke-ReplyProcessing runs in a child pwsh that is killed with SIGKILL at random (seeded) moments,
# including in the middle of the APPEND of a 5 MB message, then runs once more to completion. Read back over IMAP:
# every input is in the reply folder exactly once with its original bytes, every forward arrived at least once,
# and the source is empty. Size: REPLYADMIN_SOAK=1 runs the long loop (3,000 messages, 60 kills per source);
# REPLYADMIN_CRASH_SEED fixes the seed (default 20261127).
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    . "$PSScriptRoot/Support/Resilience.ps1"
    $server = Start-TestMailServer
    $soak = [bool] $env:REPLYADMIN_SOAK
    # Runs journal their results per batch of 50, and several workers finish batches close together, so each kill
    # costs a batch or three of progress: 1,000 messages leave room for the kills of the short variant.
    $messageCount = if ($soak) { 3000 } else { 1000 }
    $killCount = if ($soak) { 60 } else { 7 }
    $seed = if ($env:REPLYADMIN_CRASH_SEED) { [int] $env:REPLYADMIN_CRASH_SEED } else { 20261127 }

    # The inputs: seq 1 is 5 MB (handled first), every tenth has no Message-ID, seq 5 and 6 share one.
    function New-CrashInput([string] $Token) {
        foreach ($seq in 1..$messageCount) {
            $bytes = if ($seq -eq 1) { New-ResilienceReply -Token $Token -Seq $seq -BodyBytes (5MB) }
            elseif ($seq % 10 -eq 3) { New-ResilienceReply -Token $Token -Seq $seq -NoMessageId }
            elseif ($seq -in 5, 6) { New-ResilienceReply -Token $Token -Seq $seq -MessageId "shared.$Token@customer.test" }
            else { New-ResilienceReply -Token $Token -Seq $seq -BodyBytes (400 + ($seq * 37) % 3000) }
            [pscustomobject]@{ Seq = "$Token-$seq"; Bytes = $bytes }
        }
    }

    # Kills the child at random moments until $killCount kills are done; the first kill waits for the APPEND of the
    # large message to be under way (its partial file in the reply folder's maildir tmp/), the others for the
    # journal to grow by a random number of messages plus a random few milliseconds.
    function Invoke-CrashLoop($Scenario, [Random] $Random) {
        $tmp = Join-Path $server.MailDir "$($Scenario.ReplyUser)/.$($Scenario.Folder)/tmp"
        $stats = [ordered]@{ Kills = 0; KillsDuringLargeAppend = 0; RunsFinishedEarly = 0 }
        $step = [Math]::Max(2, [Math]::Floor($messageCount / ($killCount + 3) / 2))
        for ($k = 0; $k -lt $killCount; $k++) {
            $before = Get-ResilienceJournalCount $Scenario.Config
            $child = Start-ResilienceChild -ConfigPath $Scenario.Config
            $killed = $false
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            if ($k -eq 0) {
                # Mid-literal: the server has part of the 5 MB message in tmp/. The APPEND lasts some tens of
                # milliseconds, so look with plain .NET calls every millisecond, not with cmdlets.
                while (-not $child.HasExited -and [DateTime]::UtcNow -lt $deadline) {
                    $partial = [IO.Directory]::Exists($tmp) -and @([IO.Directory]::GetFiles($tmp) | Where-Object { [IO.FileInfo]::new($_).Length -gt 100KB }).Count -gt 0
                    if ($partial) { $child.Kill(); $killed = $true; $stats.KillsDuringLargeAppend++; break }
                    [Threading.Thread]::Sleep(1)
                }
            }
            else {
                $target = $before + $Random.Next(1, 2 * $step)
                $extraMs = $Random.Next(0, 40)
                while (-not $child.HasExited -and [DateTime]::UtcNow -lt $deadline) {
                    if ((Get-ResilienceJournalCount $Scenario.Config) -ge $target) {
                        if ($extraMs -gt 0) { Start-Sleep -Milliseconds $extraMs }
                        if (-not $child.HasExited) { $child.Kill(); $killed = $true }
                        break
                    }
                    Start-Sleep -Milliseconds 5
                }
            }
            if (-not $child.HasExited -and -not $killed) { $child.Kill(); $killed = $true }
            $child.WaitForExit()
            if ($killed) { $stats.Kills++ } else { $stats.RunsFinishedEarly++ }
            $child.Dispose()
        }
        $final = Start-ResilienceChild -ConfigPath $Scenario.Config
        $null = Wait-ResilienceChild -Process $final -TimeoutSeconds 180
        $stats.FinalRunExitCode = $final.ExitCode
        $final.Dispose()
        $stats
    }

    # Compares the reply folder and the forward mailbox with the inputs.
    function Measure-CrashOutcome($Scenario, $Inputs) {
        $stored = Get-ResilienceStored $Scenario
        $bySeq = @{}
        foreach ($m in $stored) { $s = Get-ResilienceSeq $m.Bytes; if (-not $bySeq.ContainsKey($s)) { $bySeq[$s] = @() }; $bySeq[$s] += , $m }
        $forwarded = Get-ResilienceForwarded $Scenario -Expected $Inputs.Count
        $forwardBySeq = $forwarded | Group-Object { Get-ResilienceSeq $_.Bytes } -AsHashTable
        if (-not $forwardBySeq) { $forwardBySeq = @{} }
        $journal = @(Get-ResilienceJournal $Scenario.Config)
        $actions = @($journal | ForEach-Object { $_.actions })
        [pscustomobject]@{
            Inputs               = $Inputs.Count
            StoredCopies         = $stored.Count
            Duplicates           = @($bySeq.Values | Where-Object { $_.Count -gt 1 } | ForEach-Object { $_.Count - 1 } | Measure-Object -Sum).Sum
            Losses               = @($Inputs | Where-Object { -not $bySeq.ContainsKey($_.Seq) }).Count
            BytesChanged         = @($Inputs | Where-Object { $bySeq.ContainsKey($_.Seq) -and -not (Test-ResilienceBytesEqual $bySeq[$_.Seq][0].Bytes $_.Bytes) }).Count
            Foreign              = @($bySeq.Keys | Where-Object { $_ -notin $Inputs.Seq }).Count
            ForwardsMissing      = @($Inputs | Where-Object { -not $forwardBySeq.ContainsKey($_.Seq) }).Count
            ForwardDuplicates    = @($forwardBySeq.Values | Where-Object { $_.Count -gt 1 } | ForEach-Object { $_.Count - 1 } | Measure-Object -Sum).Sum
            RecoveredAfterAppend = @($actions | Where-Object { $_ -like 'Stored by an interrupted run*' }).Count
            ResumedAfterStore    = @($actions | Where-Object { $_ -eq 'Stored by an earlier run' }).Count
            ResumedAfterForward  = @($actions | Where-Object { $_ -eq 'Already forwarded by an earlier run' }).Count
        }
    }

    function Write-CrashReport([string] $Name, $Stats, $Outcome) {
        $line = "Crash test ($Name, seed $seed): $($Outcome.Inputs) messages, $($Stats.Kills) kills injected ($($Stats.KillsDuringLargeAppend) during the 5 MB APPEND, " +
            "$($Stats.RunsFinishedEarly) runs ended before their kill); recovered after APPEND $($Outcome.RecoveredAfterAppend), resumed after store " +
            "$($Outcome.ResumedAfterStore), after forward $($Outcome.ResumedAfterForward); stored duplicates $($Outcome.Duplicates), losses $($Outcome.Losses), " +
            "changed bytes $($Outcome.BytesChanged); forwards missing $($Outcome.ForwardsMissing), duplicate forwards $($Outcome.ForwardDuplicates)."
        Write-Host $line
    }

    $lists = @(@{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' })
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
    if (Get-Command Remove-ResilienceScenario -ErrorAction SilentlyContinue) { Remove-ResilienceScenario }
}

Describe 'ReplyProcessor acknowledgement protocol under SIGKILL' -Tag Integration, Soak {
    Context 'When runs over <Kind> are killed at random moments' -ForEach @(
        @{ Kind = 'a directory source'; Report = 'directory source'; SeedOffset = 0 }
        @{ Kind = 'an IMAP source'; Report = 'IMAP source'; SeedOffset = 1 }
    ) {
        BeforeAll {
            # On a loaded machine the first run can get past the large APPEND between two looks and then handle
            # everything, leaving nothing to kill: the harness missed, not the product. Then it starts over with a
            # new scenario (at most 3 times); the assertions below judge the last one.
            for ($attempt = 1; $attempt -le 3; $attempt++) {
                $scenario = New-ResilienceScenario -Lists $lists
                $inputs = @(New-CrashInput $scenario.Token)
                if ($Kind -eq 'an IMAP source') {
                    Set-ResilienceImapSource $scenario
                    Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @($inputs | ForEach-Object { , $_.Bytes })
                }
                else {
                    $i = 0
                    foreach ($item in $inputs) {
                        $path = Join-Path $scenario.Inbound ('{0:00000}.eml' -f ++$i)
                        [IO.File]::WriteAllBytes($path, $item.Bytes)
                        [IO.File]::SetLastWriteTimeUtc($path, [DateTime]::UtcNow.AddMinutes(-100).AddSeconds($i))
                    }
                }
                $stats = Invoke-CrashLoop $scenario ([Random]::new($seed + $SeedOffset))
                if ($stats.KillsDuringLargeAppend -eq 1) { break }
                Write-Host "Crash test ($Report): attempt $attempt did not catch the large APPEND under way ($($stats.RunsFinishedEarly) runs ended before their kill)."
            }
            $outcome = Measure-CrashOutcome $scenario $inputs
            Write-CrashReport $Report $stats $outcome
        }

        It 'Injected the kills, one of them during the APPEND of the large message' {
            $stats.Kills | Should -BeGreaterOrEqual ($killCount - 2)
            $stats.KillsDuringLargeAppend | Should -Be 1
            $stats.FinalRunExitCode | Should -Be 0
        }

        It 'Stores every input exactly once with its original bytes' {
            $outcome.Losses | Should -Be 0
            $outcome.Duplicates | Should -Be 0
            $outcome.BytesChanged | Should -Be 0
            $outcome.Foreign | Should -Be 0
            $outcome.StoredCopies | Should -Be $inputs.Count
        }

        It 'Forwards every input at least once' {
            $outcome.ForwardsMissing | Should -Be 0
        }

        It 'Leaves the source empty with nothing in flight and every message acknowledged with its state' {
            if ($Kind -eq 'an IMAP source') {
                Get-ResilienceStored $scenario -User 'inbound@example.test' -Folder $scenario.InboundFolder | Should -BeNullOrEmpty
                $processed = Get-ResilienceStored $scenario -User 'inbound@example.test' -Folder "$($scenario.InboundFolder)/Processed"
                $processed | Should -HaveCount $inputs.Count
                @($processed | Where-Object { $_.Keywords -notcontains 'ReplyAdmin-Stored' -or $_.Keywords -notcontains 'ReplyAdmin-Forwarded' }) | Should -BeNullOrEmpty
            }
            else {
                Get-ChildItem $scenario.Inbound -Filter *.eml | Should -BeNullOrEmpty
                Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/InFlight') | Should -BeNullOrEmpty
                Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/Processed') | Should -HaveCount $inputs.Count
            }
        }

        It 'Finds nothing left to do on a further run' {
            Invoke-ReplyProcessing -ConfigPath $scenario.Config | Should -BeNullOrEmpty
        }
    }
}

Describe 'ReplyProcessor recovery at each interruption point' -Tag Integration {
    # The state a killed run leaves behind, built directly (no timing involved): the source state (keywords on the
    # IMAP message, or the in-flight file name) and, where the APPEND had completed, the copy in the reply folder.
    Context 'When a run over <Kind> was interrupted' -ForEach @(
        @{ Kind = 'a directory source' }
        @{ Kind = 'an IMAP source' }
    ) {
        BeforeAll {
            $scenario = New-ResilienceScenario -Lists $lists
            if ($Kind -eq 'an IMAP source') { Set-ResilienceImapSource $scenario }
            $points = @(
                @{ Seq = 1; State = 'C'; Copy = $false; NoId = $false; Action = 'Stored as UID*'; Forward = $true }
                @{ Seq = 2; State = 'C'; Copy = $true; NoId = $false; Action = 'Stored by an interrupted run*'; Forward = $true }
                @{ Seq = 3; State = 'C'; Copy = $true; NoId = $true; Action = 'Stored by an interrupted run*'; Forward = $true }
                @{ Seq = 4; State = 'C'; Copy = $false; NoId = $false; Action = 'Stored as UID*'; Forward = $true; SameIdOther = 104 }
                @{ Seq = 5; State = 'CS'; Copy = $true; NoId = $false; Action = 'Stored by an earlier run'; Forward = $true }
                @{ Seq = 6; State = 'CSF'; Copy = $true; NoId = $false; Action = 'Stored by an earlier run'; Forward = $false }
                @{ Seq = 7; State = 'C'; Copy = $false; NoId = $true; Action = 'Stored as UID*'; Forward = $true; SameSizeOther = 107 }
            )
            $inputs = @{}
            $others = [Collections.Generic.List[object]]::new()
            foreach ($p in $points) {
                $id = if ($p.ContainsKey('SameIdOther')) { "shared.$($scenario.Token)@customer.test" } else { $null }
                $bytes = New-ResilienceReply -Token $scenario.Token -Seq $p.Seq -NoMessageId:$p.NoId -MessageId $id
                $inputs[$p.Seq] = $bytes
                if ($p.ContainsKey('SameIdOther')) { $others.Add((New-ResilienceReply -Token $scenario.Token -Seq $p.SameIdOther -MessageId $id)) }
                if ($p.ContainsKey('SameSizeOther')) { $others.Add((New-ResilienceReply -Token $scenario.Token -Seq $p.SameSizeOther -NoMessageId)) }
                if ($p.Copy) { $others.Add($bytes) }
                $keywords = @('ReplyAdmin-Claimed') + @(if ($p.State -match 'S') { 'ReplyAdmin-Stored' }) + @(if ($p.State -match 'F') { 'ReplyAdmin-Forwarded' })
                if ($Kind -eq 'an IMAP source') {
                    Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @(, $bytes) -Keywords $keywords
                }
                else {
                    $inFlight = Join-Path $scenario.Inbound 'ReplyAdmin/InFlight'
                    $null = New-Item -ItemType Directory -Path $inFlight -Force
                    $letters = $p.State.Substring(1)
                    [IO.File]::WriteAllBytes((Join-Path $inFlight ("$($p.Seq).eml" + $(if ($letters) { ";ra=$letters" }))), $bytes)
                }
            }
            Add-ResilienceImapBytes -User $scenario.ReplyUser -Folder $scenario.Folder -Messages $others.ToArray()
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $stored = Get-ResilienceStored $scenario
            $forwarded = Get-ResilienceForwarded $scenario -Expected 6
        }

        It 'Ends every message Done' {
            $results | Should -HaveCount $points.Count
            $results.Outcome | Sort-Object -Unique | Should -Be 'Done'
        }

        It 'Resumes <Name> with one stored copy' -TestCases @(
            @{ Name = 'a claimed message with nothing stored'; Seq = 1 }
            @{ Name = 'a claimed message whose APPEND completed'; Seq = 2 }
            @{ Name = 'a claimed message without Message-ID whose APPEND completed'; Seq = 3 }
            @{ Name = 'a claimed message whose Message-ID another stored message has'; Seq = 4 }
            @{ Name = 'a stored message not yet forwarded'; Seq = 5 }
            @{ Name = 'a forwarded message not yet acknowledged'; Seq = 6 }
            @{ Name = 'a claimed message without Message-ID, another of the same size stored'; Seq = 7 }
        ) {
            $point = $points | Where-Object { $_.Seq -eq $Seq }
            $copies = @($stored | Where-Object { (Get-ResilienceSeq $_.Bytes) -eq "$($scenario.Token)-$Seq" })
            $copies | Should -HaveCount 1
            Test-ResilienceBytesEqual $copies[0].Bytes $inputs[$Seq] | Should -BeTrue
            $result = $results | Where-Object { $_.Subject -like "*#$Seq" }
            $result.Actions[0] | Should -BeLike $point.Action
            $sent = @($forwarded | Where-Object { (Get-ResilienceSeq $_.Bytes) -eq "$($scenario.Token)-$Seq" })
            if ($point.Forward) { $sent.Count | Should -BeGreaterOrEqual 1 } else { $sent | Should -BeNullOrEmpty }
        }

        It 'Keeps the other messages of the folder as they were' {
            $stored | Should -HaveCount ($points.Count + 2)
        }
    }
}
