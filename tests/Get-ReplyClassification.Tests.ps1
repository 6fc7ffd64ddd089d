Set-StrictMode -Version Latest

BeforeDiscovery {
    $fixtureRoot = Join-Path $PSScriptRoot 'fixtures/classification'
    # One case per fixture; the folder names the expected class.
    $fixtureCases = foreach ($folder in 'human', 'autoreply', 'bounce', 'loop', 'malformed') {
        $expected = @{ human = 'Human'; autoreply = 'AutoReply'; bounce = 'Bounce'; loop = 'Loop'; malformed = 'Human' }[$folder]
        foreach ($file in Get-ChildItem -Path (Join-Path $fixtureRoot $folder) -Filter *.eml -File | Sort-Object Name) {
            @{ Scenario = "$folder/$($file.Name)"; File = $file.FullName; Expected = $expected }
        }
    }

    $corpusRoot = Join-Path $PSScriptRoot '../../shared/corpus'
    $corpusCases = @()
    if (Test-Path (Join-Path $corpusRoot 'labels.tsv')) {
        $corpusCases = foreach ($row in Import-Csv -Path (Join-Path $corpusRoot 'labels.tsv') -Delimiter "`t") {
            @{ Scenario = $row.file; File = (Join-Path $corpusRoot $row.file); Label = $row.class }
        }
    }
}

Describe 'Get-ReplyClassification' -Tag Unit {
    BeforeAll {
        . "$PSScriptRoot/Support/Common.ps1"
        Import-Module $ModulePath -Force
        $fixtureRoot = Join-Path $PSScriptRoot 'fixtures/classification'
        $corpusRoot = Join-Path $PSScriptRoot '../../shared/corpus'
        $errorIdUnreadable = 'MessageUnreadable,ReplyAdmin.Commands.GetReplyClassificationCommand'

        function Get-CorpusLabel([string] $Class) {
            switch ($Class) { 'AutoReply' { 'auto-reply' } 'Bounce' { 'bounce' } default { 'human' } }
        }
    }

    Context 'When given tricky fixtures' {
        It 'Classifies <Scenario> as <Expected>' -TestCases $fixtureCases {
            param($Scenario, $File, $Expected)
            $result = Get-ReplyClassification -LiteralPath $File
            $result.Class | Should -Be $Expected -Because ($result.Evidence -join '; ')
            $result.Rule | Should -Not -BeNullOrEmpty
            $result.Confidence | Should -BeGreaterThan 0
            $result.Confidence | Should -BeLessOrEqual 1
        }

        It 'Names the auto-reply kind of <Scenario> as <Kind>' -TestCases @(
            @{ Scenario = 'German Exchange "Automatische Antwort:" without marker headers'; File = 'autoreply/exchange-german-automatische-antwort.eml'; Kind = 'OutOfOffice' }
            @{ Scenario = 'ticket receipt'; File = 'autoreply/ticket-acknowledgement.eml'; Kind = 'AutoAcknowledgement' }
            @{ Scenario = 'challenge-response'; File = 'autoreply/challenge-response.eml'; Kind = 'ChallengeResponse' }
        ) {
            param($Scenario, $File, $Kind)
            (Get-ReplyClassification -LiteralPath (Join-Path $fixtureRoot $File)).Kind | Should -Be $Kind
        }

        It 'Does not count X-Auto-Response-Suppress alone but shows it as evidence' {
            $result = Get-ReplyClassification -LiteralPath (Join-Path $fixtureRoot 'human/outlook-auto-response-suppress.eml')
            $result.Class | Should -Be 'Human'
            $result.Evidence -match 'X-Auto-Response-Suppress' | Should -Not -BeNullOrEmpty
            $result.Evidence -match 'not counted' | Should -Not -BeNullOrEmpty
        }

        It 'Treats Auto-Submitted: no as evidence for a person' {
            $result = Get-ReplyClassification -LiteralPath (Join-Path $fixtureRoot 'human/auto-submitted-no.eml')
            $result.Class | Should -Be 'Human'
            $result.Rule | Should -Be 'AutoSubmittedNo'
        }

        It 'Decides <Scenario> from the headers alone' -TestCases @(
            @{ Scenario = 'Exchange OOF with marker headers'; File = 'autoreply/exchange-english-oof-headers.eml' }
            @{ Scenario = 'German Exchange NDR'; File = 'bounce/exchange-german-unzustellbar.eml' }
            @{ Scenario = 'our own forward'; File = 'loop/our-own-forward.eml' }
        ) {
            param($Scenario, $File)
            (Get-ReplyClassification -LiteralPath (Join-Path $fixtureRoot $File)).BodyRead | Should -BeFalse
        }
    }

    Context 'When reading from the pipeline' {
        It 'Classifies files piped from Get-ChildItem' {
            $results = @(Get-ChildItem -Path (Join-Path $fixtureRoot 'bounce') -Filter *.eml | Get-ReplyClassification)
            $results.Count | Should -Be @(Get-ChildItem -Path (Join-Path $fixtureRoot 'bounce') -Filter *.eml).Count
            $results.Class | Sort-Object -Unique | Should -Be 'Bounce'
            $results[0].PSObject.TypeNames[0] | Should -Be 'ReplyAdmin.Commands.ClassificationResult'
        }

        It 'Expands wildcards in -Path' {
            $results = @(Get-ReplyClassification -Path (Join-Path $fixtureRoot 'autoreply/*.eml'))
            $results.Count | Should -Be @(Get-ChildItem -Path (Join-Path $fixtureRoot 'autoreply') -Filter *.eml).Count
            $results.Class | Sort-Object -Unique | Should -Be 'AutoReply'
        }

        It 'Classifies MimeMessage objects' {
            # The module's own MimeKit (its load context); a MimeMessage of another MimeKit: tests/Isolation.Tests.ps1.
            $message = (Get-ReplyAdminType MimeKit.MimeMessage)::Load((Join-Path $fixtureRoot 'autoreply/exchange-german-automatische-antwort.eml'))
            $result = $message | Get-ReplyClassification
            $result.Class | Should -Be 'AutoReply'
            $result.Path | Should -BeNullOrEmpty
            $result.Subject | Should -BeLike 'Automatische Antwort:*'
        }

        It 'Says in verbose output which rule fired' {
            $verbose = Get-ReplyClassification -LiteralPath (Join-Path $fixtureRoot 'bounce/qmail-failure-notice.eml') -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            "$verbose" | Should -Match 'Bounce by rule MailerDaemonSender'
        }
    }

    Context 'When a file cannot be read' {
        It 'Writes MessageUnreadable for a missing file' {
            { Get-ReplyClassification -LiteralPath (Join-Path $TestDrive 'missing.eml') -ErrorAction Stop } |
                Should -Throw -ErrorId $errorIdUnreadable
        }

        It 'Writes a non-terminating error with category ReadError and goes on with the next file' {
            $good = Join-Path $fixtureRoot 'human/auto-submitted-no.eml'
            $missing = Join-Path $TestDrive 'missing.eml'
            $results = @(Get-ReplyClassification -LiteralPath $missing, $good -ErrorAction SilentlyContinue -ErrorVariable problems)
            $results.Count | Should -Be 1
            $problems.Count | Should -Be 1
            $problems[0].FullyQualifiedErrorId | Should -Be $errorIdUnreadable
            $problems[0].CategoryInfo.Category | Should -Be 'ReadError'
            $problems[0].TargetObject | Should -Be $missing
        }

        It 'Classifies a malformed file as Human instead of failing' {
            $result = Get-ReplyClassification -LiteralPath (Join-Path $fixtureRoot 'malformed/binary-garbage.eml') -ErrorAction Stop
            $result.Class | Should -Be 'Human'
            $result.Confidence | Should -BeLessOrEqual 0.6
        }
    }

    Context 'When measured on the labelled corpus' -Skip:(-not $corpusCases) {
        BeforeAll {
            $labels = Import-Csv -Path (Join-Path $corpusRoot 'labels.tsv') -Delimiter "`t"
            $results = foreach ($row in $labels) {
                $r = Get-ReplyClassification -LiteralPath (Join-Path $corpusRoot $row.file)
                [pscustomobject]@{ File = $row.file; Label = $row.class; Actual = Get-CorpusLabel $r.Class; Rule = $r.Rule }
            }
        }

        It 'Classifies <Scenario> as <Label>' -TestCases $corpusCases {
            param($Scenario, $File, $Label)
            $result = Get-ReplyClassification -LiteralPath $File
            $actual = Get-CorpusLabel $result.Class
            if ($Label -eq 'human') {
                $actual | Should -Be 'human' -Because ($result.Evidence -join '; ')
            }
            elseif ($actual -ne $Label) {
                # Individual misses are allowed within the targets below; they are reported, not failed.
                Set-ItResult -Inconclusive -Because "classified $($result.Class) by $($result.Rule) (known hard case, see Measure-Classification.ps1)"
            }
        }

        It 'Classifies no human message as auto-generated' {
            @($results | Where-Object { $_.Label -eq 'human' -and $_.Actual -ne 'human' } | ForEach-Object File) | Should -BeNullOrEmpty
        }

        It 'Recognises at least 98% of auto-replies as auto-generated' {
            $group = @($results | Where-Object Label -EQ 'auto-reply')
            (@($group | Where-Object Actual -NE 'human').Count / $group.Count) | Should -BeGreaterOrEqual 0.98
        }

        It 'Recognises at least 99% of bounces as auto-generated' {
            $group = @($results | Where-Object Label -EQ 'bounce')
            (@($group | Where-Object Actual -NE 'human').Count / $group.Count) | Should -BeGreaterOrEqual 0.99
        }
    }
}
