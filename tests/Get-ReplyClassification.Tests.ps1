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

    # Fixtures whose headers decide their class without the body.
    $headerDecidedCases = @(
        @{ Scenario = 'Exchange OOF with marker headers'; File = 'autoreply/exchange-english-oof-headers.eml' }
        @{ Scenario = 'German Exchange NDR'; File = 'bounce/exchange-german-unzustellbar.eml' }
        @{ Scenario = 'our own forward'; File = 'loop/our-own-forward.eml' }
    )

    $generatedRoot = Join-Path $PSScriptRoot 'fixtures/corpus-generated'
    $generatedCases = foreach ($row in Import-Csv -Path (Join-Path $generatedRoot 'labels.tsv') -Delimiter "`t") {
        @{ Scenario = $row.file; File = (Join-Path $generatedRoot $row.file); Label = $row.class; Note = $row.note }
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
        $generatedRoot = Join-Path $PSScriptRoot 'fixtures/corpus-generated'
        $errorIdUnreadable = 'MessageUnreadable,ReplyAdmin.Commands.GetReplyClassificationCommand'

        function Get-CorpusLabel([string] $Class) {
            switch ($Class) { 'AutoReply' { 'auto-reply' } 'Bounce' { 'bounce' } default { 'human' } }
        }

        # A reply with the given subject and text and no marker headers at all, as a person's client would send it.
        # MimeKit's types come from ReplyAdmin's own load context, where [type] literals do not look.
        $MimeMessage = Get-ReplyAdminType 'MimeKit.MimeMessage'
        $MailboxAddress = Get-ReplyAdminType 'MimeKit.MailboxAddress'
        $TextPart = Get-ReplyAdminType 'MimeKit.TextPart'
        function New-PlainReply([string] $Subject, [string] $Text, [hashtable] $Headers = @{}) {
            $message = $MimeMessage::new()
            $message.From.Add($MailboxAddress::new('Anna Berger', 'anna@kunde.example'))
            $message.To.Add($MailboxAddress::new('Newsletter', 'news@campaign.example'))
            $message.Subject = $Subject
            foreach ($name in $Headers.Keys) { $message.Headers.Add($name, $Headers[$name]) }
            $part = $TextPart::new('plain')
            $part.Text = $Text
            $message.Body = $part
            $message
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

        It 'Decides <Scenario> from the headers alone' -TestCases $headerDecidedCases {
            param($Scenario, $File)
            (Get-ReplyClassification -LiteralPath (Join-Path $fixtureRoot $File)).BodyRead | Should -BeFalse
        }
    }

    Context 'When an auto-reply carries no Auto-Submitted header' {
        It 'Recognises the <Language> out-of-office "<Subject>" from its subject and text together' -TestCases @(
            @{ Language = 'German'; Subject = 'Urlaub bis 20. August'; Text = 'Guten Tag, ich bin bis zum 20. August im Urlaub und lese keine E-Mails.' }
            @{ Language = 'English'; Subject = 'I am on vacation'; Text = 'I am on vacation until July 22. If you have something urgent, please contact Keith.' }
            @{ Language = 'French'; Subject = 'Absente du bureau'; Text = "Bonjour, je suis absente du bureau jusqu'au 20 mars." }
            @{ Language = 'Dutch'; Subject = 'Afwezig'; Text = 'Ik ben afwezig tot en met 20 maart en lees mijn e-mail niet.' }
            @{ Language = 'Spanish'; Subject = 'De vacaciones'; Text = 'Estoy de vacaciones hasta el 20 de marzo.' }
            @{ Language = 'Italian'; Subject = 'In ferie'; Text = 'Sono in ferie fino al 20 marzo con accesso limitato alla posta.' }
            @{ Language = 'Portuguese'; Subject = 'Ausente do escritório'; Text = 'Estou ausente do escritório até 20 de março.' }
            @{ Language = 'Polish'; Subject = 'Nieobecność w biurze'; Text = 'Jestem poza biurem do 20 marca.' }
            @{ Language = 'Czech'; Subject = 'Mimo kancelář'; Text = 'Dobrý den, jsem mimo kancelář do 20. března.' }
            @{ Language = 'Swedish'; Subject = 'Frånvarande'; Text = 'Jag är ledig till och med den 20 mars.' }
            @{ Language = 'Danish'; Subject = 'Fraværende'; Text = 'Jeg er på ferie til og med 20. marts.' }
            @{ Language = 'Norwegian'; Subject = 'Ikke til stede'; Text = 'Jeg er borte frem til 20. mars og har ikke tilgang til e-post.' }
        ) {
            param($Language, $Subject, $Text)
            $result = New-PlainReply -Subject $Subject -Text $Text | Get-ReplyClassification
            $result.Class | Should -Be 'AutoReply' -Because ($result.Evidence -join '; ')
            $result.Kind | Should -Be 'OutOfOffice'
            $result.BodyRead | Should -BeTrue
        }

        It 'Recognises <Scenario> from weak header evidence and the text' -TestCases @(
            @{ Scenario = 'vacation(1) with Precedence: bulk'; Subject = 'Re: Spring offer (away)'; Text = 'I am out of the office until 20 March.'; Headers = @{ Precedence = 'bulk' } }
            @{ Scenario = 'procmail with Precedence: junk and X-Loop'; Subject = 'Re: Spring offer'; Text = 'Ich bin vom 4. bis 20. März nicht im Büro.'; Headers = @{ Precedence = 'junk'; 'X-Loop' = 'anna@kunde.example' } }
        ) {
            param($Scenario, $Subject, $Text, $Headers)
            $result = New-PlainReply -Subject $Subject -Text $Text -Headers $Headers | Get-ReplyClassification
            $result.Class | Should -Be 'AutoReply' -Because ($result.Evidence -join '; ')
        }

        It 'Keeps <Scenario> Human' -TestCases @(
            @{ Scenario = 'a list reply (Precedence: list, List-Id, X-Loop) saying the writer is away'; Subject = 'Re: [kunden] Angebot'; Text = 'Ich bin bis Freitag im Urlaub, aber das Angebot gefällt mir.'; Headers = @{ Precedence = 'list'; 'List-Id' = '<kunden.lists.kunde.example>'; 'X-Loop' = 'kunden@lists.kunde.example' } }
            @{ Scenario = 'a list reply with Precedence: bulk and List-Id'; Subject = 'Re: [customers] Offer'; Text = "I'm out of the office until Monday, but yes, we want the offer."; Headers = @{ Precedence = 'bulk'; 'List-Id' = '<customers.lists.example.net>' } }
            @{ Scenario = 'a person writing about an out-of-office policy'; Subject = 'Out of office policy for your hotline'; Text = 'What is your out of office policy: when I am on vacation until the end of the month, who answers?'; Headers = @{} }
            @{ Scenario = 'a person asking how to set up an automatic reply'; Subject = 'Automatic reply settings question'; Text = "How do I set up the automatic reply when I'm out of the office?"; Headers = @{} }
            @{ Scenario = 'a person replying through a gateway that adds Precedence: bulk'; Subject = 'Re: Forårstilbud'; Text = 'Tak for tilbuddet. Jeg er på ferie næste uge, så send fakturaen i dag.'; Headers = @{ Precedence = 'bulk' } }
        ) {
            param($Scenario, $Subject, $Text, $Headers)
            $result = New-PlainReply -Subject $Subject -Text $Text -Headers $Headers | Get-ReplyClassification
            $result.Class | Should -Be 'Human' -Because ($result.Evidence -join '; ')
        }
    }

    # A run classifies a batch on headers first and fetches, together, the starts of the messages whose class the
    # headers leave open; then it classifies those again with the start (ReplyProcessor.OpenBodiesAsync).
    Context 'When the engine classifies on headers alone' {
        BeforeAll {
            $classifier = (Get-ReplyAdminType 'ReplyAdmin.Engine.Classification.ReplyClassifier')::new()
        }

        It 'Says the body is wanted where the headers leave the class open, and decides with it' {
            $message = New-PlainReply -Subject 'Urlaub bis 20. August' -Text 'Guten Tag, ich bin bis zum 20. August im Urlaub und lese keine E-Mails.'
            $onHeaders = $classifier.Classify($message.Headers, $null)
            $onHeaders.BodyWanted | Should -BeTrue
            $onHeaders.BodyRead | Should -BeFalse
            $withBody = $classifier.Classify($message)
            $withBody.BodyWanted | Should -BeFalse
            $withBody.BodyRead | Should -BeTrue
            $withBody.Class | Should -Be 'AutoReply'
        }

        It 'Wants no body where the headers decide: <Scenario>' -TestCases $headerDecidedCases {
            param($Scenario, $File)
            $message = $MimeMessage::Load((Join-Path $fixtureRoot $File))
            try {
                $onHeaders = $classifier.Classify($message.Headers, $null)
                $onHeaders.BodyWanted | Should -BeFalse
                $onHeaders.Class | Should -Be $classifier.Classify($message).Class
            }
            finally { $message.Dispose() }
        }
    }

    Context 'When a delivery report says what happened' {
        It 'Classifies <Scenario> as <Class> of kind <Kind> by rule <Rule>' -TestCases @(
            @{ Scenario = 'an Exim success DSN (Action: delivered)'; File = 'autoreply/dsn-action-delivered-exim.eml'; Class = 'AutoReply'; Kind = 'DeliveryReceipt'; Rule = 'DeliveryStatusDelivered' }
            @{ Scenario = 'an Exim delay warning (Action: delayed)'; File = 'bounce/dsn-action-delayed-exim.eml'; Class = 'Bounce'; Kind = 'DelayWarning'; Rule = 'DeliveryStatusDelayed' }
            @{ Scenario = 'a failure that also carries Auto-Submitted: auto-replied and auto-reply headers'; File = 'bounce/dsn-failed-with-auto-submitted-and-autoreply-headers.eml'; Class = 'Bounce'; Kind = 'None'; Rule = 'DeliveryStatusFailed' }
            @{ Scenario = 'a Sieve reject notice (MDN, disposition deleted)'; File = 'bounce/sieve-reject-mdn-deleted.eml'; Class = 'Bounce'; Kind = 'None'; Rule = 'RejectNotice' }
        ) {
            param($Scenario, $File, $Class, $Kind, $Rule)
            $result = Get-ReplyClassification -LiteralPath (Join-Path $fixtureRoot $File)
            $result.Class | Should -Be $Class -Because ($result.Evidence -join '; ')
            $result.Kind | Should -Be $Kind
            $result.Rule | Should -Be $Rule
        }

        It 'Decides a failure report whose subject says failure from the headers alone' {
            $result = Get-ReplyClassification -LiteralPath (Join-Path $generatedRoot 'exim/exim-bounce-failed.eml')
            $result.Class | Should -Be 'Bounce'
            $result.BodyRead | Should -BeFalse
        }
    }

    Context 'When measured on the corpus generated by real mail software' {
        BeforeAll {
            $generated = foreach ($row in Import-Csv -Path (Join-Path $generatedRoot 'labels.tsv') -Delimiter "`t") {
                $r = Get-ReplyClassification -LiteralPath (Join-Path $generatedRoot $row.file)
                [pscustomobject]@{ File = $row.file; Label = $row.class; Actual = Get-CorpusLabel $r.Class; Rule = $r.Rule }
            }
        }

        It 'Classifies <Scenario> as <Label>' -TestCases $generatedCases {
            param($Scenario, $File, $Label, $Note)
            $result = Get-ReplyClassification -LiteralPath $File
            Get-CorpusLabel $result.Class | Should -Be $Label -Because "$Note; $($result.Evidence -join '; ')"
        }

        It 'Classifies no human message as auto-generated' {
            @($generated | Where-Object { $_.Label -eq 'human' -and $_.Actual -ne 'human' } | ForEach-Object File) | Should -BeNullOrEmpty
        }

        It 'Recognises at least 99% of auto-replies and 99.5% of bounces as auto-generated' {
            $replies = @($generated | Where-Object Label -EQ 'auto-reply')
            $bounces = @($generated | Where-Object Label -EQ 'bounce')
            (@($replies | Where-Object Actual -NE 'human').Count / $replies.Count) | Should -BeGreaterOrEqual 0.99
            (@($bounces | Where-Object Actual -NE 'human').Count / $bounces.Count) | Should -BeGreaterOrEqual 0.995
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

        It 'Recognises at least 99% of auto-replies as auto-generated' {
            $group = @($results | Where-Object Label -EQ 'auto-reply')
            (@($group | Where-Object Actual -NE 'human').Count / $group.Count) | Should -BeGreaterOrEqual 0.99
        }

        It 'Recognises at least 99.5% of bounces as auto-generated' {
            $group = @($results | Where-Object Label -EQ 'bounce')
            (@($group | Where-Object Actual -NE 'human').Count / $group.Count) | Should -BeGreaterOrEqual 0.995
        }
    }
}
