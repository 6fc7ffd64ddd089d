#Requires -Version 7.0
# Server faults during processing, against the real Dovecot and Postfix: each has a specific outcome, the run ends
# in bounded time with a clear error or summary, and a later run completes the work with no duplicate copy.
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    . "$PSScriptRoot/Support/Resilience.ps1"
    $server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test', 'forward@example.test', 'staff@example.test', 'blocked@example.test', 'quota@example.test' `
        -Quota @{ 'quota@example.test' = '100K' }

    # Writes $Count replies into the scenario's directory source (seq 1 first); returns the inputs.
    function Add-FaultInput($Scenario, [int] $Count, [int] $BodyBytes = 600, [int] $FirstBodyBytes = 0) {
        foreach ($seq in 1..$Count) {
            $size = if ($seq -eq 1 -and $FirstBodyBytes) { $FirstBodyBytes } else { $BodyBytes }
            $bytes = New-ResilienceReply -Token $Scenario.Token -Seq $seq -BodyBytes $size -NoMessageId:($seq % 7 -eq 0)
            $path = Join-Path $Scenario.Inbound ('{0:00000}.eml' -f $seq)
            [IO.File]::WriteAllBytes($path, $bytes)
            [IO.File]::SetLastWriteTimeUtc($path, [DateTime]::UtcNow.AddMinutes(-100).AddSeconds($seq))
            [pscustomobject]@{ Seq = "$($Scenario.Token)-$seq"; Bytes = $bytes }
        }
    }

    # How many inputs are stored 0, 1 or more times.
    function Measure-FaultStored($Scenario, $Inputs) {
        $stored = Get-ResilienceStored $Scenario
        $counts = @{}
        foreach ($m in $stored) { $s = Get-ResilienceSeq $m.Bytes; $counts[$s] = 1 + $(if ($counts.ContainsKey($s)) { $counts[$s] } else { 0 }) }
        [pscustomobject]@{
            Losses     = @($Inputs | Where-Object { -not $counts.ContainsKey($_.Seq) }).Count
            Duplicates = @($counts.Values | Where-Object { $_ -gt 1 }).Count
            Total      = $stored.Count
        }
    }

    function Wait-FaultJournal($Scenario, [int] $Lines, [Diagnostics.Process] $Child) {
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ((Get-ResilienceJournalCount $Scenario.Config) -lt $Lines -and -not $Child.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 5 }
    }

    # A Postfix recipient access map for this instance (texthash: no postmap).
    function Set-FaultRecipientAccess([hashtable] $Rules) {
        $map = Join-Path $server.PostfixConfigDir 'recipient_access'
        # main.cf is written without a final line end, and postconf -e would glue the new line to the last one.
        $main = Join-Path $server.PostfixConfigDir 'main.cf'
        if (-not [IO.File]::ReadAllText($main).EndsWith("`n")) { [IO.File]::AppendAllText($main, "`n") }
        [IO.File]::WriteAllText($map, (($Rules.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join "`n") + "`n")
        $null = Invoke-TestMailNative -FilePath 'postconf' -ArgumentList '-c', $server.PostfixConfigDir, '-e', "smtpd_recipient_restrictions = check_recipient_access texthash:$map"
        # A restart, not a reload: after a reload, idle smtpd processes keep the old rules for a while.
        Stop-TestPostfix -Server $server
        Start-TestPostfix -Server $server
    }

    $faults = [Collections.Generic.List[string]]::new()
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
    if (Get-Command Remove-ResilienceScenario -ErrorAction SilentlyContinue) { Remove-ResilienceScenario }
    if ($faults) { Write-Host "Server faults exercised: $($faults.Count) ($($faults -join '; '))." }
}

Describe 'ImapReplyStore when Dovecot fails' -Tag Integration {
    Context 'When Dovecot stops in the middle of a run' {
        BeforeAll {
            $scenario = New-ResilienceScenario
            $inputs = @(Add-FaultInput $scenario 2000)
            $resultPath = Join-Path (Split-Path $scenario.Config) 'child.json'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $child = Start-ResilienceChild -ConfigPath $scenario.Config -ResultPath $resultPath -TimeoutSeconds 5
            Wait-FaultJournal $scenario 10 $child
            # A service stop (systemd sends SIGTERM to every process of the unit): the IMAP sessions end with BYE.
            & /bin/sh -c '/usr/bin/kill -TERM -- "-$1"' sh $server.DovecotPid 2>$null
            Stop-TestDovecot -Server $server
            $null = Wait-ResilienceChild -Process $child -TimeoutSeconds 60
            $clock.Stop()
            $error1 = Get-Content "$resultPath.error" -Raw -ErrorAction SilentlyContinue
            $handledBefore = @(Get-ResilienceJournal $scenario.Config).Count
            Start-TestDovecot -Server $server
            $second = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $measure = Measure-FaultStored $scenario $inputs
            $faults.Add('Dovecot stopped mid-run')
        }

        It 'Ends the run with a terminating connection error in bounded time' {
            $child.ExitCode | Should -Be 1
            $error1 | Should -Match '^ImapConnect(Failed|Timeout)'
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 60
            $handledBefore | Should -BeLessThan 2000
        }

        It 'Completes the work on the next run, every message stored once' {
            $second.Outcome | Sort-Object -Unique | Should -Be 'Done'
            $measure.Losses | Should -Be 0
            $measure.Duplicates | Should -Be 0
            Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/Processed') | Should -HaveCount 2000
        }
    }

    Context 'When Dovecot is killed during the APPEND of a large message (connection dropped mid-literal)' {
        BeforeAll {
            # The whole batch goes in one MULTIAPPEND, so the run may finish between seeing the partial file and the
            # kill; on a loaded machine that race can be lost. Try again (a fresh scenario) until the kill lands.
            for ($attempt = 1; $attempt -le 3; $attempt++) {
                if ($attempt -gt 1) { Start-TestDovecot -Server $server }
                $scenario = New-ResilienceScenario
                $inputs = @(Add-FaultInput $scenario 6 -FirstBodyBytes (9MB))
                $resultPath = Join-Path (Split-Path $scenario.Config) 'child.json'
                $tmp = Join-Path $server.MailDir "$($scenario.ReplyUser)/.$($scenario.Folder)/tmp"
                $child = Start-ResilienceChild -ConfigPath $scenario.Config -ResultPath $resultPath -TimeoutSeconds 5
                $midLiteral = $false
                $deadline = [DateTime]::UtcNow.AddSeconds(60)
                while (-not $child.HasExited -and [DateTime]::UtcNow -lt $deadline) {
                    if (@(if (Test-Path $tmp) { Get-ChildItem $tmp -File | Where-Object Length -GT 0 }).Count -gt 0) { $midLiteral = $true; break }
                    Start-Sleep -Milliseconds 1
                }
                Stop-TestDovecot -Server $server -Kill
                $null = Wait-ResilienceChild -Process $child -TimeoutSeconds 60
                if ($midLiteral -and $child.ExitCode -ne 0) { break }
            }
            $error1 = Get-Content "$resultPath.error" -Raw -ErrorAction SilentlyContinue
            $inFlight = @(Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/InFlight') -ErrorAction SilentlyContinue)
            Start-TestDovecot -Server $server
            $second = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $measure = Measure-FaultStored $scenario $inputs
            $faults.Add('Dovecot killed mid-literal')
        }

        It 'Killed the server while the message was on the wire' {
            $midLiteral | Should -BeTrue
        }

        It 'Ends the run with a connection error and leaves the large message claimed, not stored' {
            $child.ExitCode | Should -Be 1
            $error1 | Should -Match '^ImapConnect'
            # The batch (all six) was claimed together before its MULTIAPPEND; none is marked stored.
            $inFlight.Name | Should -Contain '00001.eml'
            $inFlight.Name | Should -Not -Match ';ra='
            $inFlight.Count | Should -BeLessOrEqual 6
        }

        It 'Stores every message once on the next run' {
            $second.Outcome | Sort-Object -Unique | Should -Be 'Done'
            $measure.Losses | Should -Be 0
            $measure.Duplicates | Should -Be 0
            $measure.Total | Should -Be 6
        }
    }

    Context 'When the reply folder is deleted during a run' {
        BeforeAll {
            $scenario = New-ResilienceScenario
            $inputs = @(Add-FaultInput $scenario 1000)
            $resultPath = Join-Path (Split-Path $scenario.Config) 'child.json'
            $child = Start-ResilienceChild -ConfigPath $scenario.Config -ResultPath $resultPath -TimeoutSeconds 5
            Wait-FaultJournal $scenario 1 $child
            # Dovecot refuses to delete a folder that gets new mail during the deletion: try again until it is gone.
            for ($try = 0; $try -lt 50; $try++) {
                try { $null = Invoke-TestMailNative -FilePath 'doveadm' -ArgumentList '-c', $server.DovecotConfig, 'mailbox', 'delete', '-u', $scenario.ReplyUser, $scenario.Folder; break }
                catch { if ($_ -notmatch 'added to mailbox during deletion') { throw } }
            }
            $null = Wait-ResilienceChild -Process $child -TimeoutSeconds 60
            $error1 = Get-Content "$resultPath.error" -Raw -ErrorAction SilentlyContinue
            $first = @(Get-ResilienceJournal $scenario.Config)
            $failed = @($first | Where-Object outcome -EQ 'Failed')
            Add-TestMailFolder -Server $server -User $scenario.ReplyUser -Folder $scenario.Folder
            $second = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $stored = Get-ResilienceStored $scenario
            $faults.Add('reply folder deleted mid-run')
        }

        It 'Ends the run at the first message that cannot be stored, with a folder-not-found error' {
            $child.ExitCode | Should -Be 1
            $error1 | Should -Match '^ImapFolderNotFound'
            $error1 | Should -Match ([regex]::Escape($scenario.Folder))
            # The batches whose MULTIAPPEND met the deleted folder are left at the source (one of 50 per worker at most).
            $failed.Count | Should -BeLessOrEqual (50 * (Get-ReplyAdminType ReplyAdmin.Engine.Processing.ProcessingOptions)::DefaultThrottleLimit)
            $first.Count | Should -BeLessThan 1000
        }

        It 'Stores each message not yet handled once when the folder is back' {
            $done = @($first | Where-Object outcome -EQ 'Done').Count
            $second | Should -HaveCount (1000 - $done)
            $second.Outcome | Sort-Object -Unique | Should -Be 'Done'
            $stored | Should -HaveCount (1000 - $done)
            @($stored | ForEach-Object { Get-ResilienceSeq $_.Bytes } | Sort-Object -Unique) | Should -HaveCount (1000 - $done)
            Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/Processed') | Should -HaveCount 1000
        }
    }

    Context 'When the reply mailbox is over its quota' {
        BeforeAll {
            $scenario = New-ResilienceScenario -ReplyUser 'quota@example.test'
            # 70 KB of the 100 KB quota are taken by an old message in INBOX; the eight 10 KB replies do not all fit.
            $filler = Join-Path (Split-Path $scenario.Config) 'filler.eml'
            [IO.File]::WriteAllBytes($filler, (New-ResilienceReply -Token "$($scenario.Token)f" -Seq 1 -BodyBytes 70000))
            Import-TestMessage -Server $server -User 'quota@example.test' -Path $filler
            $inputs = @(Add-FaultInput $scenario 8 -BodyBytes 10000)
            $first = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue -ErrorVariable quotaErrors)
            # Staff make room.
            $null = Invoke-TestMailNative -FilePath 'doveadm' -ArgumentList '-c', $server.DovecotConfig, 'expunge', '-u', 'quota@example.test', 'mailbox', 'INBOX', 'all'
            $second = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $measure = Measure-FaultStored $scenario $inputs
            $faults.Add('quota exceeded')
        }

        It 'Stores what fits and leaves the rest at the source with a quota error' {
            @($first | Where-Object Outcome -EQ 'Done').Count | Should -BeGreaterThan 0
            $over = @($first | Where-Object Outcome -EQ 'Failed')
            $over.Count | Should -BeGreaterThan 0
            $over.ErrorId | Sort-Object -Unique | Should -Be 'ImapCommandFailed'
            $over[0].Reason | Should -Match '(?i)quota'
            $quotaErrors[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        }

        It 'Completes on the next run once there is room, every message stored once' {
            $second.Outcome | Sort-Object -Unique | Should -Be 'Done'
            $measure.Losses | Should -Be 0
            $measure.Duplicates | Should -Be 0
        }
    }

    Context 'When the reply mailbox login is revoked' {
        BeforeAll {
            $scenario = New-ResilienceScenario
            $inputs = @(Add-FaultInput $scenario 3)
            $password = $server.Users['replies@example.test']
            Set-TestMailUser -Server $server -User 'replies@example.test' -Revoke
            $err = $null; $r0 = @()
            try { $r0 = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -TimeoutSeconds 30 -ErrorAction Stop) } catch { $err = $_ }
            $untouched = @(Get-ChildItem $scenario.Inbound -Filter *.eml).Count
            Set-TestMailUser -Server $server -User 'replies@example.test' -Password $password
            $second = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $measure = Measure-FaultStored $scenario $inputs
            $faults.Add('authentication revoked')
        }

        It 'Ends with a terminating authentication error and touches no message' {
            $err.FullyQualifiedErrorId | Should -Be 'ImapAuthenticationFailed,ReplyAdmin.Commands.InvokeReplyProcessingCommand'
            $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
            $untouched | Should -Be 3
        }

        It 'Completes once the login works again' {
            $second.Outcome | Sort-Object -Unique | Should -Be 'Done'
            $measure.Losses | Should -Be 0
            $measure.Duplicates | Should -Be 0
        }
    }
}

Describe 'SmtpForwarder when the relay fails' -Tag Integration {
    Context 'When the relay answers <Code> for the forward address' -ForEach @(
        @{ Code = '4xx'; Address = 'staff@example.test'; Answer = '450 4.7.1 try again later'; ErrorId = 'SmtpForwardDeferred'; Pattern = '450' }
        @{ Code = '5xx'; Address = 'blocked@example.test'; Answer = '550 5.7.1 not accepted here'; ErrorId = 'SmtpForwardRejected'; Pattern = '550' }
    ) {
        BeforeAll {
            $scenario = New-ResilienceScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = $Address }
            $inputs = @(Add-FaultInput $scenario 3)
            Set-FaultRecipientAccess @{ $Address = $Answer }
            try {
                $first = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue)
                $inFlight = @(Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/InFlight'))
                $again = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue)
            }
            finally { Set-FaultRecipientAccess @{ 'nobody@example.invalid' = 'OK' } }
            $second = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $measure = Measure-FaultStored $scenario $inputs
            $forwarded = Get-ResilienceForwarded $scenario -Expected 3 -User $Address
            $faults.Add("relay $Code")
        }

        It 'Leaves each message at the source, stored once, with the relay''s answer' {
            $first.Outcome | Sort-Object -Unique | Should -Be 'Failed'
            $first.ErrorId | Sort-Object -Unique | Should -Be $ErrorId
            $first[0].Reason | Should -Match $Pattern
            $inFlight | Should -HaveCount 3
            $inFlight.Name | Should -Match ';ra=S\d?$' -Because 'stored, not forwarded (a 5xx also counts an attempt)'
        }

        It 'Retries the forward on each run without storing again' {
            $again.Outcome | Sort-Object -Unique | Should -Be 'Failed'
            $again.Actions | Should -Contain 'Stored by an earlier run'
        }

        It 'Forwards and acknowledges once the relay accepts, still with one stored copy each' {
            $second.Outcome | Sort-Object -Unique | Should -Be 'Done'
            $measure.Losses | Should -Be 0
            $measure.Duplicates | Should -Be 0
            $measure.Total | Should -Be 3
            @($forwarded | ForEach-Object { Get-ResilienceSeq $_.Bytes } | Sort-Object -Unique) | Should -HaveCount 3
        }
    }

    Context 'When the relay refuses the forward address on every run (<Kind>)' -ForEach @(
        @{ Kind = 'directory source' }
        @{ Kind = 'IMAP source' }
    ) {
        BeforeAll {
            $scenario = New-ResilienceScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'nobody-here@example.test' }
            if ($Kind -eq 'IMAP source') { Set-ResilienceImapSource $scenario }
            $inputs = @(Add-FaultInput $scenario 2)
            if ($Kind -eq 'IMAP source') {
                Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @($inputs | ForEach-Object { , $_.Bytes })
            }
            $runs = @(foreach ($run in 1..6) { , @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue -WarningAction SilentlyContinue -WarningVariable +deadWarnings) })
            $measure = Measure-FaultStored $scenario $inputs
            $faults.Add("relay 5xx on every run ($Kind): dead-letter")
        }

        It 'Fails and counts the attempts on the first four runs, storing once' {
            foreach ($k in 0..3) {
                $runs[$k].Outcome | Sort-Object -Unique | Should -Be 'Failed'
                $runs[$k].Actions | Should -Contain "Attempt $($k + 1) of 5 counted"
            }
            $measure.Total | Should -Be 2
            $measure.Duplicates | Should -Be 0
        }

        It 'Sets the messages aside in DeadLetter with the reason on the fifth run, with a warning' {
            $runs[4].Outcome | Sort-Object -Unique | Should -Be 'Failed'
            $runs[4].ErrorId | Sort-Object -Unique | Should -Be 'SmtpForwardRejected'
            $runs[4][0].Actions[-1] | Should -Match 'DeadLetter\S* after 5 failed attempts$'
            $deadWarnings | Should -Not -BeNullOrEmpty
            if ($Kind -eq 'IMAP source') {
                $dead = Get-ResilienceStored $scenario -User 'inbound@example.test' -Folder "$($scenario.InboundFolder)/DeadLetter"
                $dead | Should -HaveCount 2
                $dead[0].Keywords | Should -Contain 'ReplyAdmin-Stored'
                $dead[0].Keywords | Should -Contain 'ReplyAdmin-Attempt-4'
                Get-ResilienceStored $scenario -User 'inbound@example.test' -Folder $scenario.InboundFolder | Should -BeNullOrEmpty
            }
            else {
                $dead = Join-Path $scenario.Inbound 'ReplyAdmin/DeadLetter'
                Get-ChildItem $dead -Filter *.eml | Should -HaveCount 2
                Get-Content (Join-Path $dead '00001.eml.reason.txt') | Should -Match 'Failed 5 times; last error SmtpForwardRejected'
                Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/InFlight') | Should -BeNullOrEmpty
            }
        }

        It 'Leaves nothing to retry afterwards' {
            $runs[5] | Should -BeNullOrEmpty
        }
    }

    Context 'When the TLS handshake with the relay fails' {
        BeforeAll {
            $scenario = New-ResilienceScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' }
            $inputs = @(Add-FaultInput $scenario 2)
            # Implicit TLS against Postfix's plaintext port: the handshake fails, and the relay is found to speak plaintext.
            Set-ReplySmtpRelay -ConfigPath $scenario.Config -TlsMode Implicit
            $first = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -TimeoutSeconds 5 -ErrorAction SilentlyContinue -ErrorVariable tlsErrors)
            Set-ReplySmtpRelay -ConfigPath $scenario.Config -TlsMode StartTls
            $second = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $measure = Measure-FaultStored $scenario $inputs
            $faults.Add('relay TLS handshake failing')
        }

        It 'Fails each forward with a TLS error, stored once and left at the source' {
            $first.Outcome | Sort-Object -Unique | Should -Be 'Failed'
            $first.ErrorId | Sort-Object -Unique | Should -Be 'SmtpPlaintextRefused'
            $tlsErrors[0].CategoryInfo.Category | Should -Be 'SecurityError'
        }

        It 'Completes once TLS works' {
            $second.Outcome | Sort-Object -Unique | Should -Be 'Done'
            $measure.Losses | Should -Be 0
            $measure.Duplicates | Should -Be 0
        }
    }
}

Describe 'Network timeouts' -Tag Integration {
    BeforeAll {
        # Accepts connections (the kernel completes the handshake) and never says a word.
        $silent = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $silent.Start()
        $silentPort = $silent.LocalEndpoint.Port
    }
    AfterAll { if ($silent) { $silent.Stop() } }

    Context 'When the reply mailbox accepts the connection and never answers' {
        It 'Ends the run with a timeout error within bounded time and leaves the messages at the source' {
            $scenario = New-ResilienceScenario
            $null = Add-FaultInput $scenario 2
            Set-ReplyMailbox -ConfigPath $scenario.Config -Port $silentPort
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $err = { Invoke-ReplyProcessing -ConfigPath $scenario.Config -TimeoutSeconds 3 -ErrorAction Stop } | Should -Throw -PassThru
            $clock.Stop()
            $err.FullyQualifiedErrorId | Should -BeLike 'ImapConnectTimeout,*'
            $err.Exception.Message | Should -Match "127\.0\.0\.1:$silentPort"
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 15
            Get-ChildItem $scenario.Inbound -Filter *.eml | Should -HaveCount 2
            $faults.Add('hung IMAP server')
        }
    }

    Context 'When the SMTP relay accepts the connection and never answers' {
        It 'Fails the forwards in bounded time, stores each message once and leaves it at the source' {
            $scenario = New-ResilienceScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' }
            $inputs = @(Add-FaultInput $scenario 3)
            Set-ReplySmtpRelay -ConfigPath $scenario.Config -Port $silentPort
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -TimeoutSeconds 3 -ErrorAction SilentlyContinue)
            $clock.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 20
            $results.Outcome | Sort-Object -Unique | Should -Be 'Failed'
            $results.ErrorId | Sort-Object -Unique | Should -Be 'SmtpRelayUnavailable'
            $results[0].Reason | Should -Match "127\.0\.0\.1:$silentPort"
            (Measure-FaultStored $scenario $inputs).Total | Should -Be 3
            $faults.Add('hung SMTP relay')
        }
    }
}
