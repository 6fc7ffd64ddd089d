#Requires -Version 7.0
# Hostile and broken input: mutated copies of the corpus (../shared/corpus) plus hand-made monsters (1 MB header
# line, 10,000 header fields, 1,000 nested multiparts, broken charsets and encoded-words, NULs, 8-bit headers) go
# through one run over a directory source in a child pwsh: no crash, no hang, one outcome per message, bounded
# memory. A 50 MB message is refused by its size without being read. REPLYADMIN_SOAK=1 mutates 10,000 messages
# instead of 1,000; REPLYADMIN_MUTATION_SEED fixes the seed (default 4711).
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    . "$PSScriptRoot/Support/Resilience.ps1"
    $server = Start-TestMailServer
    $mutationCount = if ($env:REPLYADMIN_SOAK) { 10000 } else { 1000 }
    $seed = if ($env:REPLYADMIN_MUTATION_SEED) { [int] $env:REPLYADMIN_MUTATION_SEED } else { 4711 }
    $latin1 = [Text.Encoding]::Latin1
    $corpus = @(Get-ChildItem $CorpusPath -Recurse -Filter *.eml | Sort-Object FullName | ForEach-Object { , [IO.File]::ReadAllBytes($_.FullName) })

    function ConvertTo-MutationText([byte[]] $Bytes) { $latin1.GetString($Bytes) }
    function ConvertFrom-MutationText([string] $Text) { , $latin1.GetBytes($Text) }

    # One mutation of a message, chosen by $Random; returns the new bytes and the operator's name.
    function Get-Mutation([byte[]] $Bytes, [Random] $Random) {
        $text = ConvertTo-MutationText $Bytes
        $op = $Random.Next(0, 12)
        switch ($op) {
            0 { $name = 'truncate'; $text = $text.Substring(0, $Random.Next(0, [Math]::Max(1, $text.Length))) }
            1 {
                $name = 'flip bytes'
                $b = [byte[]] $Bytes.Clone()
                for ($i = 0; $i -lt $Random.Next(1, 30); $i++) { if ($b.Length) { $b[$Random.Next(0, $b.Length)] = [byte] $Random.Next(0, 256) } }
                return @($b, $name)
            }
            2 { $name = 'insert NUL'; for ($i = 0; $i -lt $Random.Next(1, 10); $i++) { $text = $text.Insert($Random.Next(0, $text.Length + 1), "`0") } }
            3 { $name = 'break boundaries'; $text = $text -replace '(?m)^--([^\r\n]{1,70})--', '--$1' -replace '(?m)^--(\S{4})', '-- $1' -replace 'boundary="?([^";\r\n]+)"?', 'boundary="$1x"' }
            4 { $name = 'invalid charset'; $text = $text -replace '(?i)charset="?[\w-]+"?', 'charset="x-no-such-charset"' -replace '(?im)^Subject:[^\r\n]*', 'Subject: =?x-bogus?B?////?= =?utf-8?Q?=FF=FE=C3?= =?utf-8?B?not-base64!?=' }
            5 { $name = 'no Message-ID'; $text = $text -replace '(?im)^Message-ID:[^\r\n]*\r?\n', '' }
            6 { $name = 'duplicate Message-ID'; $text = ($text -replace '(?im)^Message-ID:[^\r\n]*\r?\n', '') -replace '^', "Message-ID: <same@mutation.test>`r`nMessage-ID: <other@mutation.test>`r`n" }
            7 { $name = '8-bit headers'; $text = $text -replace '(?im)^Subject:', "Subject: Gr$([char]0xFC)$([char]0xDF)e $([char]0xC3)$([char]0xBC)ber" -replace '(?im)^From:', "From: J$([char]0xC3)$([char]0xBC)rgen $([char]0xFF)" }
            8 { $name = 'header without colon'; $text = $text.Insert([Math]::Min($text.Length, $Random.Next(0, 200)), "`r`nThis line is not a header field`r`n") }
            9 { $name = 'mixed line ends'; $text = $text -replace "`r`n", { if ($Random.Next(0, 2)) { "`n" } else { "`r" } } }
            10 { $name = 'CR/LF in To'; $text = "To: `"x`r`nA1 DELETE INBOX`" <news@example.test>`r`n" + $text }
            default { $name = 'long header'; $text = "X-Long: " + ('a' * $Random.Next(1000, 20000)) + "`r`n" + $text }
        }
        @((ConvertFrom-MutationText $text), $name)
    }

    # The monsters, one each.
    function Get-Monster {
        $head = "From: a@customer.test`r`nTo: news@example.test`r`nSubject: monster`r`nDate: Tue, 24 Nov 2026 09:12:44 +0100`r`n"
        @{ Name = 'giant header line (1 MB)'; Text = $head + 'X-Giant: ' + ('g' * 1MB) + "`r`nMessage-ID: <giant@m.test>`r`n`r`nbody`r`n" }
        @{ Name = '10,000 header fields'; Text = $head + ((1..10000 | ForEach-Object { "X-H-${_}: value $_" }) -join "`r`n") + "`r`nMessage-ID: <many@m.test>`r`n`r`nbody`r`n" }
        $nest = [Text.StringBuilder]::new($head + "Message-ID: <deep@m.test>`r`nMIME-Version: 1.0`r`nContent-Type: multipart/mixed; boundary=`"b0`"`r`n`r`n")
        for ($i = 0; $i -lt 1000; $i++) { [void] $nest.Append("--b$i`r`nContent-Type: multipart/mixed; boundary=`"b$($i + 1)`"`r`n`r`n") }
        [void] $nest.Append("--b1000`r`nContent-Type: text/plain`r`n`r`ndeep`r`n--b1000--`r`n")
        for ($i = 999; $i -ge 0; $i--) { [void] $nest.Append("--b$i--`r`n") }
        @{ Name = '1,000 nested multiparts'; Text = $nest.ToString() }
        @{ Name = 'only NULs'; Text = "`0" * 5000 }
        @{ Name = 'empty file'; Text = '' }
        @{ Name = 'header block only, no body'; Text = $head.TrimEnd() }
        @{ Name = 'encoded-word soup'; Text = $head.Replace('Subject: monster', 'Subject: =?utf-8?B?' + ('=' * 200) + '?= =?' + ('x' * 500) + '?Q?a?= =?utf-8?Q?' + ('=00' * 300) + '?=') + "Message-ID: <soup@m.test>`r`nContent-Type: text/plain; charset=`"utf-7`"`r`n`r`n+AGEAYgBj-`r`n" }
    }
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
    if (Get-Command Remove-ResilienceScenario -ErrorAction SilentlyContinue) { Remove-ResilienceScenario }
}

Describe 'ReplyProcessor with hostile input' -Tag Integration, Soak {
    Context 'When thousands of mutated corpus messages are processed in one run' {
        BeforeAll {
            $scenario = New-ResilienceScenario
            $random = [Random]::new($seed)
            $operators = @{}
            for ($i = 0; $i -lt $mutationCount; $i++) {
                $mutated, $name = Get-Mutation $corpus[$random.Next(0, $corpus.Count)] $random
                if ($random.Next(0, 3) -eq 0) { $mutated, $second = Get-Mutation $mutated $random; $name = "$name + $second" }
                $operators[$name.Split(' + ')[0]] = 1 + $(if ($operators.ContainsKey($name.Split(' + ')[0])) { $operators[$name.Split(' + ')[0]] } else { 0 })
                [IO.File]::WriteAllBytes((Join-Path $scenario.Inbound ('m{0:00000}.eml' -f $i)), [byte[]] $mutated)
            }
            $monsters = @(Get-Monster)
            $j = 0
            foreach ($m in $monsters) { [IO.File]::WriteAllBytes((Join-Path $scenario.Inbound ('x{0:00}.eml' -f $j++)), (ConvertFrom-MutationText $m.Text)) }
            $total = $mutationCount + $monsters.Count
            $resultPath = Join-Path (Split-Path $scenario.Config) 'results.json'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $child = Start-ResilienceChild -ConfigPath $scenario.Config -ResultPath $resultPath -TimeoutSeconds 30
            $peak = Wait-ResilienceChild -Process $child -TimeoutSeconds 300
            $clock.Stop()
            $results = @(if (Test-Path $resultPath) { Get-Content $resultPath -Raw | ConvertFrom-Json })
            $journal = @(Get-ResilienceJournal $scenario.Config)
            $byOutcome = ($results | Group-Object Outcome, Disposition | ForEach-Object { "$($_.Name): $($_.Count)" }) -join '; '
            Write-Host ("Mutation test (seed $seed): $total messages ($mutationCount mutated by $(($operators.GetEnumerator() | Sort-Object Name | ForEach-Object { "$($_.Name) $($_.Value)" }) -join ', '); " +
                "$($monsters.Count) monsters) in $([int] $clock.Elapsed.TotalSeconds) s; $byOutcome; peak working set $([int] ($peak / 1MB)) MB.")
        }

        It 'Ends the run normally, in bounded time' {
            $child.ExitCode | Should -Be 0
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 300
        }

        It 'Gives every message an outcome, in the results and in the journal' {
            $results | Should -HaveCount $total
            $journal | Should -HaveCount $total
            @($results | Where-Object { $_.Outcome -notin 'Done', 'Failed' }) | Should -BeNullOrEmpty
            @($results | Where-Object { $_.Outcome -eq 'Failed' -and -not ($_.ErrorId -and $_.Reason) }) | Should -BeNullOrEmpty
        }

        It 'Leaves only failed messages at the source, each with its reason' {
            $left = @(Get-ChildItem $scenario.Inbound -Filter *.eml) + @(Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/InFlight'))
            $left.Count | Should -Be @($results | Where-Object Outcome -EQ 'Failed').Count
            $handled = @(Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/Processed')).Count + @(Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/Rejected') -Exclude *.reason.txt).Count
            ($handled + $left.Count) | Should -Be $total
        }

        It 'Handles each monster' {
            foreach ($name in 'x00.eml', 'x01.eml', 'x02.eml', 'x06.eml') {
                ($results | Where-Object SourceId -EQ $name).Outcome | Should -Be 'Done' -Because "$name must be handled"
            }
        }

        It 'Stays within bounded memory' {
            $peak | Should -BeLessThan 600MB
        }
    }

    Context 'When a message is 50 MB' {
        BeforeAll {
            $scenario = New-ResilienceScenario
            $small = Join-Path $scenario.Inbound 'small.eml'
            [IO.File]::WriteAllBytes($small, (New-ResilienceReply -Token $scenario.Token -Seq 1))
            $baseline = Wait-ResilienceChild -Process (Start-ResilienceChild -ConfigPath $scenario.Config)
            $big = Join-Path $scenario.Inbound 'big.eml'
            $stream = [IO.File]::Create($big)
            try {
                $head = New-ResilienceReply -Token $scenario.Token -Seq 2 -BodyBytes 0
                $stream.Write($head, 0, $head.Length)
                $line = [Text.Encoding]::ASCII.GetBytes(('QUJD' * 19) + "`r`n")
                while ($stream.Length -lt 50MB) { $stream.Write($line, 0, $line.Length) }
            }
            finally { $stream.Dispose() }
            $size = (Get-Item $big).Length
            $resultPath = Join-Path (Split-Path $scenario.Config) 'results.json'
            $peak = Wait-ResilienceChild -Process (Start-ResilienceChild -ConfigPath $scenario.Config -ResultPath $resultPath)
            $result = Get-Content $resultPath -Raw | ConvertFrom-Json
            Write-Host "50 MB message: peak working set $([int] ($peak / 1MB)) MB against $([int] ($baseline / 1MB)) MB for a run over one small message."
        }

        It 'Rejects it by its size and keeps it in Rejected, unchanged' {
            $result.Disposition | Should -Be 'Reject'
            $result.Outcome | Should -Be 'Done'
            $result.Reason | Should -Match 'over the limit'
            (Get-Item (Join-Path $scenario.Inbound 'ReplyAdmin/Rejected/big.eml')).Length | Should -Be $size
        }

        It 'Tells staff with a notice, without the message' {
            $notice = @(Get-ResilienceStored $scenario | Where-Object { $_.Keywords -contains 'ReplyAdmin-TooLarge' })
            $notice | Should -HaveCount 1
            $notice[0].Bytes.Length | Should -BeLessThan 64KB
        }

        It 'Never reads it into memory' {
            ($peak - $baseline) | Should -BeLessThan 40MB -Because "reading it would add at least 50 MB"
        }
    }
}
