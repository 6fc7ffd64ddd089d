#Requires -Version 7.0
# Every row of docs/acknowledgement.md's table as a fast test: the real ReplyProcessor and AcknowledgementProtocol
# against in-memory stand-ins (tests/Support/ProtocolFakes.cs) that fail or "crash" at a chosen step. A crash ends the run
# at that step, as a kill would; the next run is a fresh processor over the same source and reply folder.
# The same rows run against Dovecot in Crash.Tests.ps1 and Faults.Tests.ps1.

BeforeAll {
    Set-StrictMode -Version Latest
    . "$PSScriptRoot/Support/Common.ps1"
    Import-Module $ModulePath -Force
    # The engine may live in a load context of its own: compile the fakes against the assemblies it uses and load
    # them into the same context, so that they see the very same engine and MimeKit types.
    $loaded = [AppDomain]::CurrentDomain.GetAssemblies()
    $engine = $loaded | Where-Object { $_.GetName().Name -eq 'ReplyAdmin.Engine' } | Select-Object -First 1
    if (-not $engine) {
        # Loaded lazily: the first engine call brings it in.
        $null = Get-ReplyClassification -Path (Join-Path $PSScriptRoot 'fixtures/replies/human.eml') -ErrorAction SilentlyContinue
        $engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'ReplyAdmin.Engine' } | Select-Object -First 1
    }
    $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine)
    $mimeKit = $context.Assemblies | Where-Object { $_.GetName().Name -eq 'MimeKit' } | Select-Object -First 1
    if (-not $mimeKit) { $mimeKit = $context.LoadFromAssemblyPath((Join-Path (Split-Path $engine.Location) 'MimeKit.dll')) }
    $dll = Join-Path ([IO.Path]::GetTempPath()) "ReplyAdminProtocolFakes-$PID-$([Guid]::NewGuid().ToString('N')).dll"
    Add-Type -Path (Join-Path $PSScriptRoot 'Support/ProtocolFakes.cs') -ReferencedAssemblies $engine.Location, $mimeKit.Location, 'netstandard', 'System.Runtime', 'System.Collections', 'System.Linq', 'System.Threading', 'System.Threading.Tasks' -OutputAssembly $dll -OutputType Library -IgnoreWarnings
    $script:Harness = $context.LoadFromAssemblyPath($dll).GetType('ReplyAdminTests.ProtocolHarness')

    function New-Harness {
        param([switch] $Forward)
        $h = [Activator]::CreateInstance($script:Harness)
        $h.AddList('news', 'news@example.test', $(if ($Forward) { 'team@example.test' } else { $null }), $false)
        $h
    }
}

Describe 'Acknowledgement protocol' -Tag Unit {
    Context 'When a run is interrupted at a step of the table' {
        It 'Row <Row>: interrupted at <Step> (<When>), the next run stores exactly one copy and forwards <Forwards> time(s)' -TestCases @(
            @{ Row = 1; Step = 'Headers'; When = 'reading'; Forwards = 1; Action = 'Stored as UID' }
            @{ Row = 2; Step = 'MarkClaimed'; When = 'before the claim'; Forwards = 1; Action = 'Stored as UID' }
            @{ Row = 3; Step = 'Append.Before'; When = 'before the APPEND'; Forwards = 1; Action = 'Stored as UID' }
            @{ Row = 3; Step = 'Append.After'; When = 'after the APPEND, before its answer'; Forwards = 1; Action = 'Stored by an interrupted run' }
            @{ Row = 4; Step = 'MarkStored'; When = 'before the stored mark'; Forwards = 1; Action = 'Stored by an interrupted run' }
            @{ Row = 5; Step = 'Forward.Before'; When = 'before the relay accepted'; Forwards = 1; Action = 'Stored by an earlier run' }
            @{ Row = 5; Step = 'Forward.After'; When = 'after the relay accepted (the duplicate window)'; Forwards = 2; Action = 'Stored by an earlier run' }
            @{ Row = 6; Step = 'MarkForwarded'; When = 'before the forwarded mark'; Forwards = 2; Action = 'Stored by an earlier run' }
            @{ Row = 7; Step = 'MoveProcessed'; When = 'before the acknowledgement'; Forwards = 1; Action = 'Stored by an earlier run' }
        ) {
            $h = New-Harness -Forward
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test', $null, 200)
            $h.Faults.At($Step, 'Crash', 1)

            $h.Run() | Should -BeNullOrEmpty
            $h.LastError.ErrorId | Should -Be 'TestCrash'
            $h.MessageOf('m1').Place | Should -Be 'waiting'

            $summary = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $summary.Stored | Should -Be 1
            $h.CopiesOf('m1@customer.test') | Should -Be 1
            $h.Relay.Sent.Count | Should -Be $Forwards
            $h.MessageOf('m1').Place | Should -Be 'Processed'
            ($h.ResultOf('m1').Actions -join '; ') | Should -Match ([regex]::Escape($Action))
        }

        It 'Row 6: after the forwarded mark, the next run only acknowledges' {
            $h = New-Harness -Forward
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $h.Faults.At('MoveProcessed', 'Crash', 1)
            $null = $h.Run()
            $null = $h.Run()
            $h.Relay.Sent.Count | Should -Be 1
            $h.ResultOf('m1').Actions | Should -Contain 'Already forwarded by an earlier run'
        }

        It 'Finds the copy of a message without Message-ID by its bytes, not by its size alone' {
            $h = New-Harness
            $null = $h.AddMessage('twin', 'news@example.test', $null, 'X-Note: first', 300)
            $null = $h.AddMessage('m1', 'news@example.test', $null, 'X-Note: other', 300)
            $null = $h.Run()                                   # stores 'twin' and 'm1'
            $null = $h.AddMessage('m2', 'news@example.test', $null, 'X-Note: third', 300)
            $h.Faults.At('Append.After', 'Crash', 1)
            $null = $h.Run()                                   # m2 stored, answer lost
            $null = $h.Run()
            $h.Store.Copies.Count | Should -Be 3
            ($h.ResultOf('m2').Actions -join '; ') | Should -Match 'Stored by an interrupted run'
        }

        It 'Stores a notice for a too-large reply once, whatever the interruption' {
            $h = New-Harness
            $h.MaxMessageSize = 1000
            $null = $h.AddMessage('big', 'news@example.test', 'big@customer.test', $null, 5000)
            $h.Faults.At('Append.After', 'Crash', 1)
            $null = $h.Run()
            $summary = $h.Run()
            $summary.Rejected | Should -Be 1
            $h.Store.Copies.Count | Should -Be 1
            $h.Store.Copies[0].Text | Should -Match 'Reply not stored'
            $h.MessageOf('big').Place | Should -Be 'Rejected'
            $h.MessageOf('big').Reason | Should -Match 'over the limit'
        }

        It 'Handles messages an earlier run left half-done before new ones' {
            $h = New-Harness
            $null = $h.AddMessage('old', 'news@example.test', 'old@customer.test')
            $h.Faults.At('MarkStored', 'Crash', 1)
            $null = $h.Run()
            $null = $h.AddMessage('new', 'news@example.test', 'new@customer.test')
            $null = $h.Run()
            $h.LastRun.Results[0].SourceId | Should -Be 'old'
            $h.Store.Copies.Count | Should -Be 2
        }
    }

    Context 'When a batch step fails for one message' {
        It 'Falls back to one message at a time; each gets its own outcome and nothing is done twice' {
            $h = New-Harness
            foreach ($i in 1..5) { $null = $h.AddMessage("m$i", 'news@example.test', "m$i@customer.test") }
            # The batch's MULTIAPPEND fails once (e.g. the server refused one message); one at a time they all go in.
            $h.Faults.At('Append.Before', 'Fail', 1)
            $summary = $h.Run()
            $summary.Stored | Should -Be 5
            $summary.Failed | Should -Be 0
            $h.Store.Copies.Count | Should -Be 5
            $h.Store.AppendCommands | Should -Be 5
            @($h.Source.Messages | Where-Object Place -ne 'Processed').Count | Should -Be 0
        }

        It 'Completes a batch whose stored mark failed without a second APPEND' {
            $h = New-Harness
            foreach ($i in 1..3) { $null = $h.AddMessage("m$i", 'news@example.test', "m$i@customer.test") }
            $h.Faults.At('MarkStored', 'Lost', 1)
            $summary = $h.Run()
            $summary.Stored | Should -Be 3
            $h.Store.AppendCommands | Should -Be 1
            $h.Store.Copies.Count | Should -Be 3
        }

        It 'Leaves only the failing message at the source and counts a permanent failure' {
            $h = New-Harness -Forward
            foreach ($i in 1..3) { $null = $h.AddMessage("m$i", 'news@example.test', "m$i@customer.test") }
            $h.Faults.At('Forward.Before', 'Fail', 2)          # the batch's first forward, then the same message alone
            $summary = $h.Run()
            $summary.Failed | Should -Be 1
            $summary.Stored | Should -Be 2
            $failed = $h.ResultOf('m1')
            $failed.Outcome | Should -Be 'Failed'
            $failed.ErrorId | Should -Be 'TestFailure'
            $failed.Actions | Should -Contain 'Attempt 1 of 5 counted'
            $h.MessageOf('m1').Place | Should -Be 'waiting'
            $h.MessageOf('m1').Attempts | Should -Be 1
            $h.Store.Copies.Count | Should -Be 3
            $h.Relay.Sent.Count | Should -Be 2
        }

        It 'Retries a transient failure on every run without counting it' {
            $h = New-Harness -Forward
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $h.Faults.At('Forward.Before', 'Lost', 2)
            $summary = $h.Run()
            $summary.Failed | Should -Be 1
            $h.MessageOf('m1').Attempts | Should -Be 0
            $h.MessageOf('m1').State.ToString() | Should -Match 'Stored'
            $null = $h.Run()
            $h.MessageOf('m1').Place | Should -Be 'Processed'
            $h.CopiesOf('m1@customer.test') | Should -Be 1
        }

        It 'Sets a message aside in DeadLetter on the last allowed attempt' {
            $h = New-Harness -Forward
            $h.MaxAttempts = 2
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $h.Faults.At('Forward.Before', 'Fail', 100)
            $null = $h.Run()
            $h.MessageOf('m1').Place | Should -Be 'waiting'
            $null = $h.Run()
            $h.MessageOf('m1').Place | Should -Be 'DeadLetter'
            $h.MessageOf('m1').Reason | Should -Match 'Failed 2 times; last error TestFailure'
            $h.LastRun.Warnings.Count | Should -Be 1
            $h.CopiesOf('m1@customer.test') | Should -Be 1
        }
    }

    Context 'When a message is gone (another host or a person moved it away)' {
        It 'Reports <Step> as Gone: no notice, not Done, nothing stored twice' -TestCases @(
            @{ Step = 'Headers'; Copies = 0 }
            @{ Step = 'Load'; Copies = 0 }
            @{ Step = 'MoveProcessed'; Copies = 1 }
        ) {
            $h = New-Harness
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $null = $h.AddMessage('m2', 'news@example.test', 'm2@customer.test')
            $h.Faults.At($Step, 'Vanish', 1)
            $summary = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $summary.Gone | Should -Be 1
            $summary.Failed | Should -Be 0
            $h.ResultOf('m1').Outcome | Should -Be 'Gone'
            $h.ResultOf('m1').Actions | Should -Not -Contain 'Moved to Processed'
            $h.MessageOf('m1').Place | Should -Be 'Elsewhere'
            $h.MessageOf('m1').Attempts | Should -Be 0
            $h.CopiesOf('m1@customer.test') | Should -Be $Copies
            @($h.Store.Copies | Where-Object { $_.Text -match 'Reply not stored' }) | Should -BeNullOrEmpty
            $h.ResultOf('m2').Outcome | Should -Be 'Done'
            $h.MessageOf('m2').Place | Should -Be 'Processed'
        }

        It 'Does not count a gone message towards the dead-letter place, and a later run does not see it' {
            $h = New-Harness
            $h.MaxAttempts = 1
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $h.Faults.At('Load', 'Vanish', 1)
            $null = $h.Run()
            $h.MessageOf('m1').Place | Should -Be 'Elsewhere'
            $summary = $h.Run()
            $summary.Total | Should -Be 0
        }
    }

    Context 'When the reply folder is in the source''s own account (server-side copy, issue 17)' {
        It 'Copies unchanged replies in one command per batch, appends nothing, and keeps the list keyword on the copies' {
            $h = New-Harness
            $h.UseServerCopy()
            foreach ($i in 1..3) { $null = $h.AddMessage("m$i", 'news@example.test', "m$i@customer.test") }
            $summary = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $summary.Stored | Should -Be 3
            $h.ServerCopy.CopyCommands | Should -Be 1
            $h.Store.AppendCommands | Should -Be 0
            foreach ($i in 1..3) {
                $h.ResultOf("m$i").Actions -join '; ' | Should -Match 'copied on the server'
                $h.MessageOf("m$i").Place | Should -Be 'Processed'
                $copy = $h.Store.Copies | Where-Object MessageId -EQ "m$i@customer.test"
                [Linq.Enumerable]::SequenceEqual([byte[]] $copy.Bytes, [byte[]] $h.MessageOf("m$i").Bytes) | Should -BeTrue
                $copy.Keywords | Should -Contain 'ReplyAdmin-List-news'
            }
        }

        It 'Appends a notice (not a copy) for a message over the size limit' {
            $h = New-Harness
            $h.UseServerCopy()
            $h.MaxMessageSize = 1000
            $null = $h.AddMessage('big', 'news@example.test', 'big@customer.test', $null, 5000)
            $null = $h.AddMessage('ok', 'news@example.test', 'ok@customer.test')
            $null = $h.Run()
            $h.ResultOf('ok').Actions -join '; ' | Should -Match 'copied on the server'
            $h.ResultOf('big').Actions -join '; ' | Should -Not -Match 'copied on the server'
            $h.CopiesOf('big@customer.test') | Should -Be 0
            @($h.Store.Copies | Where-Object { $_.Text -match 'big@customer.test' }) | Should -HaveCount 1
        }

        It 'Interrupted <When>, the next run stores exactly one copy' -TestCases @(
            @{ Step = 'Copy.Before'; When = 'before the COPY'; Action = 'copied on the server' }
            @{ Step = 'Copy.After'; When = 'after the COPY, before its answer'; Action = 'Stored by an interrupted run' }
        ) {
            $h = New-Harness
            $h.UseServerCopy()
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $h.Faults.At($Step, 'Crash', 1)
            $h.Run() | Should -BeNullOrEmpty
            $h.MessageOf('m1').State.ToString() | Should -Match 'Claimed'
            $summary = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $summary.Stored | Should -Be 1
            $h.CopiesOf('m1@customer.test') | Should -Be 1
            $h.ResultOf('m1').Actions -join '; ' | Should -Match $Action
            $h.MessageOf('m1').Place | Should -Be 'Processed'
        }

        It 'Reports a message moved away before the COPY as Gone, and completes the rest of the batch' {
            $h = New-Harness
            $h.UseServerCopy()
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $null = $h.AddMessage('m2', 'news@example.test', 'm2@customer.test')
            $h.Faults.At('Copy.Before', 'Vanish', 1)
            $summary = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $summary.Gone | Should -Be 1
            $summary.Failed | Should -Be 0
            $h.ResultOf('m1').Outcome | Should -Be 'Gone'
            $h.CopiesOf('m1@customer.test') | Should -Be 0
            $h.ResultOf('m2').Outcome | Should -Be 'Done'
            $h.CopiesOf('m2@customer.test') | Should -Be 1
            $h.MessageOf('m2').Place | Should -Be 'Processed'
        }
    }

    Context 'When the source sends a batch''s bodies in one command (issue 17)' {
        BeforeAll {
            # Three replies m1..m3 to one list; -BatchFetch: from a source that sends a batch's bodies in one command.
            function New-ThreeReplyHarness([switch] $BatchFetch) {
                $h = New-Harness
                $h.Source.BatchFetch = $BatchFetch.IsPresent
                foreach ($i in 1..3) { $null = $h.AddMessage("m$i", 'news@example.test', "m$i@customer.test") }
                $h
            }
        }

        It 'Fetches the bodies of a batch once, in one command, and stores the same bytes as one fetch per message' {
            $batched = New-ThreeReplyHarness -BatchFetch
            $single = New-ThreeReplyHarness
            $summary = $batched.Run()
            $null = $single.Run()
            $batched.LastError | Should -BeNullOrEmpty
            $summary.Stored | Should -Be 3
            $batched.Source.BatchFetches | Should -Be 1
            $batched.Source.SingleFetches | Should -Be 0
            $single.Source.SingleFetches | Should -Be 3
            $batched.Store.AppendCommands | Should -Be 1
            foreach ($i in 1..3) {
                $copy = $batched.Store.Copies | Where-Object MessageId -EQ "m$i@customer.test"
                $expected = $single.Store.Copies | Where-Object MessageId -EQ "m$i@customer.test"
                [Linq.Enumerable]::SequenceEqual([byte[]] $copy.Bytes, [byte[]] $expected.Bytes) | Should -BeTrue
                $batched.MessageOf("m$i").Place | Should -Be 'Processed'
            }
        }

        It 'Fetches no body for an excluded auto-reply nor for a notice' {
            $h = [Activator]::CreateInstance($script:Harness)
            $h.AddList('news', 'news@example.test', $null, $true)
            $h.Source.BatchFetch = $true
            $h.MaxMessageSize = 2000
            $null = $h.AddMessage('auto', 'news@example.test', 'auto@customer.test', 'Auto-Submitted: auto-replied')
            $null = $h.AddMessage('big', 'news@example.test', 'big@customer.test', $null, 5000)
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $null = $h.AddMessage('m2', 'news@example.test', 'm2@customer.test')
            $summary = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $summary.Stored | Should -Be 2
            $h.Source.BatchFetches | Should -Be 1
            $h.Source.BatchFetched | Should -Be @('m1', 'm2')
            # The store step fetches nothing on its own (a look by the classifier before the claim is its own affair).
            $log = @($h.Faults.Log)
            @($log[([array]::IndexOf($log, 'MarkClaimed'))..($log.Count - 1)] | Where-Object { $_ -eq 'Load' }) | Should -BeNullOrEmpty
            $h.MessageOf('auto').Place | Should -Be 'Archive'
            $h.MessageOf('big').Place | Should -Be 'Rejected'
        }

        It 'Reports a message gone before the batch fetch as Gone (its own fetch tells) and stores the rest once' {
            $h = New-ThreeReplyHarness -BatchFetch
            $h.Faults.At('LoadBatch', 'Vanish', 1)
            $summary = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $summary.Gone | Should -Be 1
            $summary.Failed | Should -Be 0
            $h.ResultOf('m1').Outcome | Should -Be 'Gone'
            $h.CopiesOf('m1@customer.test') | Should -Be 0
            foreach ($i in 2..3) {
                $h.ResultOf("m$i").Outcome | Should -Be 'Done'
                $h.CopiesOf("m$i@customer.test") | Should -Be 1
                $h.MessageOf("m$i").Place | Should -Be 'Processed'
            }
        }

        It 'Falls back to one fetch per message when the batch fetch fails, storing each once' {
            $h = New-ThreeReplyHarness -BatchFetch
            $h.Faults.At('LoadBatch', 'Lost', 1)
            $summary = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $summary.Stored | Should -Be 3
            $h.Source.SingleFetches | Should -Be 3
            foreach ($i in 1..3) { $h.CopiesOf("m$i@customer.test") | Should -Be 1 }
        }
    }

    Context 'When a host stalled mid-APPEND past its lease stores the same replies late (issue 12)' {
        It 'Takes back its own later copies when the lease is gone after its APPEND, keeps the earlier ones, and stops' {
            $h = New-Harness
            foreach ($i in 1..3) { $null = $h.AddMessage("m$i", 'news@example.test', "m$i@customer.test") }
            $h.Store.LateTwins = 1                      # the host that took over stored the three while this one stalled
            $h.Faults.At('Confirm', 'LeaseLost', 1)
            $h.Run() | Should -BeNullOrEmpty
            $h.LastError.ErrorId | Should -Be 'LeaseLost'
            foreach ($i in 1..3) {
                $h.CopiesOf("m$i@customer.test") | Should -Be 1
                ($h.Store.Copies | Where-Object MessageId -EQ "m$i@customer.test").Uid | Should -Be $i -Because 'the earlier copy stays'
                $h.ResultOf("m$i").Actions -join '; ' | Should -Match "Stored twice .*kept UID $i, removed UID $($i + 3)"
                $h.MessageOf("m$i").State.ToString() | Should -Not -Match 'Stored' -Because 'a host without the lease marks nothing more'
            }
        }

        It 'Keeps its copies when the lease is gone but no other copy exists yet, and the next holder finds them' {
            $h = New-Harness
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $h.Faults.At('Confirm', 'LeaseLost', 1)
            $null = $h.Run()
            $h.LastError.ErrorId | Should -Be 'LeaseLost'
            $h.CopiesOf('m1@customer.test') | Should -Be 1
            $summary = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $summary.Stored | Should -Be 1
            $h.CopiesOf('m1@customer.test') | Should -Be 1
            $h.ResultOf('m1').Actions -join '; ' | Should -Match 'Stored by an interrupted run'
        }

        It 'Takes back the copy it stored for a claimed message when the stalled host''s copy came first' {
            $h = New-Harness
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $null = $h.AddMessage('m2', 'news@example.test', $null, 'X-Note: no Message-ID')
            $h.Faults.At('Append.Before', 'Crash', 1)  # the stalled host: claimed, its APPEND still in flight
            $null = $h.Run()
            $h.Store.LateTwins = 1                      # ...lands after this run's search found no copy
            $summary = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $summary.Stored | Should -Be 2
            $h.CopiesOf('m1@customer.test') | Should -Be 1
            @($h.Store.Copies | Where-Object { $_.Text -match 'X-Note: no Message-ID' }) | Should -HaveCount 1
            foreach ($id in 'm1', 'm2') {
                $h.ResultOf($id).Actions -join '; ' | Should -Match 'Stored twice .*kept UID \d+, removed UID \d+'
                $h.MessageOf($id).Place | Should -Be 'Processed'
            }
        }

        It 'Looks for no twin when the lease held throughout and no message was claimed before' {
            $h = New-Harness
            foreach ($i in 1..3) { $null = $h.AddMessage("m$i", 'news@example.test', "m$i@customer.test") }
            $null = $h.Run()
            $h.LastError | Should -BeNullOrEmpty
            $h.Faults.Log | Should -Contain 'Confirm'
            $h.Faults.Log | Should -Not -Contain 'RemoveTwin'
            $h.Store.Copies.Count | Should -Be 3
        }
    }

    Context 'When a failure ends the run' {
        It 'Marks the batch''s unfinished messages failed and starts no further batch' {
            $h = New-Harness
            foreach ($i in 1..120) { $null = $h.AddMessage("m$i", 'news@example.test', "m$i@customer.test") }
            $h.Faults.At('Append.Before', 'Crash', 1)
            $null = $h.Run()
            $h.LastError.Scope | Should -Be 'Run'
            $h.LastRun.Results.Count | Should -Be 50
            @($h.LastRun.Results | Where-Object Outcome -eq 'Failed').Count | Should -Be 50
            $h.Store.Copies.Count | Should -Be 0
        }
    }

    Context 'When auto-replies are excluded or the run is -WhatIf' {
        It 'Only acknowledges an excluded auto-reply, to the archive' {
            $h = [Activator]::CreateInstance($script:Harness)
            $h.AddList('news', 'news@example.test', $null, $true)
            $null = $h.AddMessage('ooo', 'news@example.test', 'ooo@customer.test', 'Auto-Submitted: auto-replied')
            $summary = $h.Run()
            $summary.Excluded | Should -Be 1
            $h.Store.Copies.Count | Should -Be 0
            $h.MessageOf('ooo').Place | Should -Be 'Archive'
            $h.Faults.Log | Should -Not -Contain 'MarkClaimed'
        }

        It 'Changes nothing under -WhatIf' {
            $h = New-Harness -Forward
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $summary = $h.Run($true)
            $summary.WhatIf | Should -BeTrue
            $summary.Stored | Should -Be 1
            $h.Store.Copies.Count | Should -Be 0
            $h.Relay.Sent.Count | Should -Be 0
            $h.MessageOf('m1').State.ToString() | Should -Be 'None'
            $h.MessageOf('m1').Place | Should -Be 'waiting'
        }
    }

    Context 'When a message carries hostile or unreadable text (issue 16)' {
        It 'Builds the notice''s Reply-To from the sender''s address, never from a decoded display name' {
            $h = New-Harness
            $h.MaxMessageSize = 1000
            # The display name decodes to "Anna: attacker@evil.example;", which as text would be a group with another address.
            $name = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('Anna: attacker@evil.example;'))
            $text = "From: =?utf-8?b?${name}?= <anna@customer.test>`r`nTo: news@example.test`r`nSubject: big`r`nMessage-ID: <big@customer.test>`r`n`r`n" + ('x' * 3000) + "`r`n"
            $null = $h.AddRaw('big', $text, $null)
            $null = $h.Run()
            $notice = $h.Store.Copies[0].Text
            $replyTo = [regex]::Match($notice, '(?m)^Reply-To:(.*(\r\n[ \t].*)*)').Groups[1].Value
            $replyTo | Should -Match 'anna@customer\.test'
            # The text may appear, but only as a quoted display name: read back, Reply-To holds the one sender.
            $replyTo | Should -Not -Match '(^|[^"])attacker@evil\.example;?\s*,'
            $parsed = (Get-ReplyAdminType 'MimeKit.InternetAddressList')::Parse($replyTo.Trim())
            @($parsed.Mailboxes).Count | Should -Be 1
            @($parsed.Mailboxes)[0].Address | Should -Be 'anna@customer.test'
            @($parsed.Mailboxes)[0].Name | Should -Be 'Anna: attacker@evil.example;'
        }

        It 'Stores a message whose headers cannot be parsed as it came, with its own keyword, from a <Source> source' -TestCases @(
            @{ Source = 'directory'; ServerHeaders = $null }
            @{ Source = 'IMAP'; ServerHeaders = "From: Anna <anna@customer.test>`r`nTo: news@example.test`r`nSubject: spaces first" }
        ) {
            $h = New-Harness
            $original = "   `r`nFrom: Anna <anna@customer.test>`r`nTo: news@example.test`r`nSubject: spaces first`r`n`r`nHello`r`n"
            $null = $h.AddRaw('sp', $original, $ServerHeaders)
            $summary = $h.Run()
            $summary.Failed | Should -Be 0
            $summary.Rejected | Should -Be 1
            $h.Store.Copies.Count | Should -Be 1
            # The original's bytes unchanged, as the body of a message of ours that any mail client can show.
            $h.Store.Copies[0].Text | Should -Match '(?m)^X-ReplyAdmin-Unreadable: '
            $h.Store.Copies[0].Text.EndsWith("`n$original") | Should -BeTrue
            $h.Store.Copies[0].Keywords | Should -Contain 'ReplyAdmin-Unreadable'
            $h.Store.Copies[0].Keywords | Should -Not -Contain 'ReplyAdmin-TooLarge'
            $h.MessageOf('sp').Place | Should -Be 'Rejected'
            ($h.ResultOf('sp').Actions -join '; ') | Should -Match 'Stored as it came'
        }

        It 'Stores a notice with its own wording and keyword when the server refuses the unreadable original' {
            $h = New-Harness
            $h.Store.RefuseUnreadable = $true
            $null = $h.AddRaw('sp', "   `r`nFrom: Anna <anna@customer.test>`r`nTo: news@example.test`r`nSubject: spaces first`r`n`r`nHello`r`n", $null)
            $summary = $h.Run()
            $summary.Failed | Should -Be 0
            $h.Store.Copies.Count | Should -Be 1
            $h.Store.Copies[0].Keywords | Should -Contain 'ReplyAdmin-Unreadable'
            $h.Store.Copies[0].Keywords | Should -Not -Contain 'ReplyAdmin-TooLarge'
            $h.Store.Copies[0].Text | Should -Match 'cannot be read as e-mail'
            $h.Store.Copies[0].Text | Should -Not -Match 'large attachments'
            $h.MessageOf('sp').Place | Should -Be 'Rejected'
        }

        It 'Stores an unreadable message once when a run is interrupted after its APPEND' {
            $h = New-Harness
            $null = $h.AddRaw('sp', "   `r`nFrom: Anna <anna@customer.test>`r`nSubject: spaces first`r`n`r`nHello`r`n", $null)
            $h.Faults.At('Append.After', 'Crash', 1)
            $null = $h.Run()
            $null = $h.Run()
            $h.Store.Copies.Count | Should -Be 1
            $h.MessageOf('sp').Place | Should -Be 'Rejected'
            ($h.ResultOf('sp').Actions -join '; ') | Should -Match 'by an interrupted run'
        }
    }

    Context 'When people look for what happened (issue 16)' {
        It 'Has a journal line for a message moved just before the run was killed' {
            $h = New-Harness
            $h.JournalDirectory = Join-Path ([IO.Path]::GetTempPath()) "ra-journal-$([guid]::NewGuid().ToString('N'))"
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $h.Faults.SnapshotPath = Join-Path $h.JournalDirectory "journal-$([DateTime]::UtcNow.ToString('yyyy-MM-dd')).jsonl"
            # The journal as a kill right after the move would leave it.
            $h.Faults.At('MovedProcessed', 'Snapshot', 1)
            $null = $h.Run()
            $h.MessageOf('m1').Place | Should -Be 'Processed'
            $lines = @($h.Faults.Snapshot | Where-Object { $_ -match '"sourceId":"m1"' })
            $lines.Count | Should -Be 1
            $lines[0] | Should -Match '"outcome":"Done"'
            $lines[0] | Should -Match 'Moving to Processed'
            # Read back after the run completed, the final line replaces the pending one.
            $read = @((Get-ReplyAdminType 'ReplyAdmin.Engine.Processing.Journal')::Read($h.JournalDirectory) | Where-Object SourceId -eq 'm1')
            $read.Count | Should -Be 1
            $read[0].Pending | Should -BeNullOrEmpty
            $read[0].AcknowledgedTo | Should -Be 'Processed'
            Remove-Item $h.JournalDirectory -Recurse -Force
        }

        It 'Keeps an excluded auto-reply''s class as a keyword at the source' {
            $h = [Activator]::CreateInstance($script:Harness)
            $h.AddList('news', 'news@example.test', $null, $true)
            $null = $h.AddMessage('ooo', 'news@example.test', 'ooo@customer.test', 'Auto-Submitted: auto-replied')
            $null = $h.Run()
            $h.MessageOf('ooo').Place | Should -Be 'Archive'
            $h.MessageOf('ooo').Labels | Should -Contain 'ReplyAdmin-AutoReply'
        }

        It 'Warns once per run and counts the messages while DeadLetter holds any' {
            $h = New-Harness -Forward
            $h.MaxAttempts = 1
            $null = $h.AddMessage('m1', 'news@example.test', 'm1@customer.test')
            $h.Faults.At('Forward.Before', 'Fail', 2)
            $null = $h.Run()
            $h.MessageOf('m1').Place | Should -Be 'DeadLetter'
            $null = $h.AddMessage('m2', 'news@example.test', 'm2@customer.test')
            $summary = $h.Run()
            $summary.SetAside | Should -Be 1
            @($h.LastRun.Warnings | Where-Object { $_ -match '1 message\(s\) wait in memory DeadLetter' }).Count | Should -Be 1
            $summary.ToString() | Should -Match '1 set aside'
        }
    }

    Context 'When the MTA delivers the list addresses to one mailbox (issue 16)' {
        It 'Finds list <List> from <Header> and says so (<Setup>)' -TestCases @(
            @{ Setup = 'Dovecot lmtp_hdr_delivery_address = original'; Headers = "Delivered-To: news@example.test"; To = 'someone@example.test'; List = 'news'; Header = 'Delivered-To' }
            @{ Setup = 'recipient delimiter: news@ aliased to inbound+news@'; Headers = "Delivered-To: inbound+news@example.test"; To = 'old-alias@example.test'; List = 'news'; Header = 'Delivered-To' }
            @{ Setup = 'Postfix local delivery with X-Original-To'; Headers = "Delivered-To: inbound@example.test`r`nX-Original-To: news@example.test"; To = 'undisclosed-recipients:;'; List = 'news'; Header = 'X-Original-To' }
            @{ Setup = 'virtual alias, Delivered-To names the mailbox'; Headers = "Delivered-To: inbound@example.test"; To = 'news@example.test'; List = 'news'; Header = 'To' }
        ) {
            $h = New-Harness
            $null = $h.AddMessage('m1', $To, 'm1@customer.test', $Headers)
            $null = $h.Run()
            $result = $h.ResultOf('m1')
            $result.Lists | Should -Be @($List)
            $result.ListHeader | Should -Be $Header
        }

        It 'Stores a Bcc reply delivered to the mailbox without the list address as unrouted, with no deciding header' {
            $h = New-Harness
            $null = $h.AddMessage('m1', 'undisclosed-recipients:;', 'm1@customer.test', 'Delivered-To: inbound@example.test')
            $null = $h.Run()
            $h.ResultOf('m1').Disposition | Should -Be 'StoreUnrouted'
            $h.ResultOf('m1').ListHeader | Should -BeNullOrEmpty
        }
    }
}
