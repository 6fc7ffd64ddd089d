#Requires -Version 7.0
Set-StrictMode -Version Latest

# ReplyAdmin loads its engine, MailKit and MimeKit in its own AssemblyLoadContext: a session that loaded another
# assembly named MimeKit or MailKit, before or after, keeps working with both. Each order runs in a fresh pwsh.
BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    $server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test'
    $fixtures = Join-Path $PSScriptRoot 'fixtures/replies'

    # The stand-ins: assemblies named MimeKit and MailKit, version 3.0.0.0 (NuGet serves only MimeKit 4.18.x, whose
    # assembly version is the module's own). Each is built from a copy of the fixture project, outside the repository.
    $work = Split-Path (New-TestConfigPath)
    $standIn = @{}
    foreach ($name in 'MimeKit', 'MailKit') {
        $source = Join-Path $work "standin-$name"
        Copy-Item (Join-Path $PSScriptRoot 'fixtures/standin') $source -Recurse
        $output = & dotnet build (Join-Path $source 'StandIn.csproj') -c Release "-p:StandInName=$name" -o (Join-Path $work $name) --nologo -v quiet 2>&1
        if ($LASTEXITCODE -ne 0) { throw "Building the $name stand-in failed: $output" }
        $standIn[$name] = Join-Path $work "$name/$name.dll"
    }

    # A reply folder of its own and a directory source holding a person's reply and an out-of-office reply.
    function New-IsolationScenario {
        $token = [guid]::NewGuid().ToString('N').Substring(0, 10)
        $folder = "Isolation-$token"
        $config = New-TestReplyConfiguration -Server $server -ReplyFolder $folder
        $client = Connect-TestImap -Server $server -User 'replies@example.test'
        try { $null = Get-TestImapFolder -Client $client -Folder $folder -Create } finally { $client.Disconnect($true); $client.Dispose() }
        Add-ReplyList -ConfigPath $config -Name news -Address news@example.test
        Set-ReplyListHandling -ConfigPath $config -Name news -AutoReplies Exclude
        $inbound = Join-Path (Split-Path $config) 'inbound'
        $null = New-Item -ItemType Directory -Path $inbound
        Set-ReplySource -ConfigPath $config -Kind Directory -Path $inbound
        foreach ($name in 'human', 'out-of-office') {
            $text = [IO.File]::ReadAllText((Join-Path $fixtures "$name.eml")) -replace 'Message-ID: <([^@>]+)@', "Message-ID: <`$1.$token@"
            [IO.File]::WriteAllText((Join-Path $inbound "$name.eml"), $text)
        }
        [pscustomobject]@{ Token = $token; Folder = $folder; Config = $config }
    }

    # Runs a script in a fresh pwsh (no profile) and returns the object it wrote as JSON to $env:ISO_RESULT.
    function Invoke-FreshPwsh([string] $Script, [hashtable] $Environment) {
        $file = Join-Path $work ("child-" + [guid]::NewGuid().ToString('N').Substring(0, 8) + '.ps1')
        Set-Content -LiteralPath $file -Value $Script
        $Environment.ISO_RESULT = [IO.Path]::ChangeExtension($file, '.json')
        foreach ($key in $Environment.Keys) { Set-Item "Env:$key" $Environment[$key] }
        try {
            $pwsh = @(Get-PwshCommand)
            $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File $file 2>&1
            if ($LASTEXITCODE -ne 0) { throw "The child pwsh failed (exit code $LASTEXITCODE): $($output -join "`n")" }
        }
        finally { foreach ($key in $Environment.Keys) { Remove-Item "Env:$key" -ErrorAction Ignore } }
        Get-Content -LiteralPath $Environment.ISO_RESULT -Raw | ConvertFrom-Json
    }

    # What the child reports: which MimeKit/MailKit assemblies sit in which load context, what processing and
    # classification returned, and what the stand-in types said.
    $report = @'
function Get-LoadedKit {
    [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in 'MimeKit', 'MailKit', 'ReplyAdmin', 'ReplyAdmin.Engine' } |
        ForEach-Object { '{0} {1} in {2}' -f $_.GetName().Name, $_.GetName().Version, [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name } |
        Sort-Object
}
function Get-ProcessingReport($Results) {
    @($Results | ForEach-Object { '{0} {1} {2}' -f $_.Class, $_.Disposition, $_.Outcome } | Sort-Object)
}
'@
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
}

Describe 'Dependency isolation' -Tag Integration {
    Context 'When another MimeKit and MailKit (3.0.0.0) are loaded before ReplyAdmin' {
        BeforeAll {
            $scenario = New-IsolationScenario
            $child = Invoke-FreshPwsh -Environment @{ ISO_MIMEKIT = $standIn.MimeKit; ISO_MAILKIT = $standIn.MailKit; ISO_CONFIG = $scenario.Config
                ISO_FIXTURES = $fixtures; REPLYADMIN_MODULE = $ModulePath } -Script ($report + @'
$ErrorActionPreference = 'Stop'
Add-Type -Path $env:ISO_MIMEKIT, $env:ISO_MAILKIT
Import-Module $env:REPLYADMIN_MODULE
$results = @(Invoke-ReplyProcessing -ConfigPath $env:ISO_CONFIG)
$path = Get-ReplyClassification -LiteralPath (Join-Path $env:ISO_FIXTURES 'out-of-office.eml')
# A MimeMessage of the session's other MimeKit (the stand-in writes out the bytes it holds) is classified too.
$foreign = [MimeKit.MimeMessage]::new([IO.File]::ReadAllBytes((Join-Path $env:ISO_FIXTURES 'out-of-office.eml'))) | Get-ReplyClassification
[pscustomobject]@{
    Processing = Get-ProcessingReport $results
    Classified = $path.Class.ToString(); ForeignClassified = $foreign.Class.ToString()
    StandInMimeKit = [MimeKit.MimeMessage]::StandIn; StandInMailKit = [MailKit.StandIn]::Name
    Loaded = @(Get-LoadedKit)
} | ConvertTo-Json | Set-Content -LiteralPath $env:ISO_RESULT
'@)
        }

        It 'Processes the replies end to end: the person''s reply stored, the out-of-office one excluded' {
            $child.Processing | Should -Be @('AutoReply Exclude Done', 'Human Store Done')
        }

        It 'Stored the person''s reply in the shared folder (read back over IMAP)' {
            $stored = @(Get-TestImapMessage -Server $server -User 'replies@example.test' -Folder $scenario.Folder)
            $stored.MessageId | Should -Be "human-1.$($scenario.Token)@customer.test"
        }

        It 'Classifies a message file, and a MimeMessage of the session''s other MimeKit' {
            $child.Classified | Should -Be 'AutoReply'
            $child.ForeignClassified | Should -Be 'AutoReply'
        }

        It 'Leaves the stand-ins in the default context and loads its own MimeKit and MailKit beside them' {
            $child.StandInMimeKit | Should -BeLike 'MimeKit, Version=3.0.0.0,*'
            $child.StandInMailKit | Should -BeLike 'MailKit, Version=3.0.0.0,*'
            $child.Loaded | Should -Contain 'MimeKit 3.0.0.0 in Default'
            $child.Loaded | Should -Contain 'MailKit 3.0.0.0 in Default'
            @($child.Loaded -like 'ReplyAdmin.Engine * in ReplyAdmin') | Should -HaveCount 1
            @($child.Loaded -like 'MimeKit 4.* in ReplyAdmin') | Should -HaveCount 1
            @($child.Loaded -like 'MailKit 4.* in ReplyAdmin') | Should -HaveCount 1
            @($child.Loaded -like 'ReplyAdmin *') | Should -HaveCount 1
            @($child.Loaded -like 'ReplyAdmin *') | Should -BeLike 'ReplyAdmin * in Default'
        }
    }

    Context 'When another MimeKit and MailKit (3.0.0.0) are loaded after ReplyAdmin' {
        BeforeAll {
            $scenario = New-IsolationScenario
            $child = Invoke-FreshPwsh -Environment @{ ISO_MIMEKIT = $standIn.MimeKit; ISO_MAILKIT = $standIn.MailKit; ISO_CONFIG = $scenario.Config
                ISO_FIXTURES = $fixtures; REPLYADMIN_MODULE = $ModulePath } -Script ($report + @'
$ErrorActionPreference = 'Stop'
Import-Module $env:REPLYADMIN_MODULE
# The engine's MimeKit is loaded before the stand-ins arrive.
$before = Get-ReplyClassification -LiteralPath (Join-Path $env:ISO_FIXTURES 'human.eml')
Add-Type -Path $env:ISO_MIMEKIT, $env:ISO_MAILKIT
$results = @(Invoke-ReplyProcessing -ConfigPath $env:ISO_CONFIG)
$after = Get-ReplyClassification -LiteralPath (Join-Path $env:ISO_FIXTURES 'out-of-office.eml')
[pscustomobject]@{
    Processing = Get-ProcessingReport $results
    Before = $before.Class.ToString(); Classified = $after.Class.ToString()
    StandInMimeKit = [MimeKit.MimeMessage]::StandIn; StandInAccess = [int][MailKit.FolderAccess]::StandIn
    Loaded = @(Get-LoadedKit)
} | ConvertTo-Json | Set-Content -LiteralPath $env:ISO_RESULT
'@)
        }

        It 'Makes the stand-ins'' types usable under their plain names' {
            $child.StandInMimeKit | Should -BeLike 'MimeKit, Version=3.0.0.0,*'
            $child.StandInAccess | Should -Be 3
            $child.Loaded | Should -Contain 'MimeKit 3.0.0.0 in Default'
            $child.Loaded | Should -Contain 'MailKit 3.0.0.0 in Default'
        }

        It 'Still processes the replies end to end and classifies' {
            $child.Before | Should -Be 'Human'
            $child.Processing | Should -Be @('AutoReply Exclude Done', 'Human Store Done')
            $child.Classified | Should -Be 'AutoReply'
            $stored = @(Get-TestImapMessage -Server $server -User 'replies@example.test' -Folder $scenario.Folder)
            $stored.MessageId | Should -Be "human-1.$($scenario.Token)@customer.test"
        }
    }
}

Describe 'The cmdlet assembly' -Tag Unit {
    It 'Names no MimeKit or MailKit assembly, so the default context never has to bind one' {
        # Read from the metadata: loading a second copy of ReplyAdmin.dll would make its types ambiguous in this session.
        $stream = [IO.File]::OpenRead((Join-Path (Split-Path $ModulePath) 'ReplyAdmin.dll'))
        try {
            $pe = [Reflection.PortableExecutable.PEReader]::new($stream)
            $metadata = [Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
            $names = foreach ($handle in $metadata.AssemblyReferences) { $metadata.GetString($metadata.GetAssemblyReference($handle).Name) }
        }
        finally { $stream.Dispose() }
        $names | Should -Contain 'ReplyAdmin.Engine'
        $names | Should -Not -Contain 'MimeKit'
        $names | Should -Not -Contain 'MailKit'
    }

    It 'Sits alone beside the manifest; the engine and its dependencies are in dependencies/' {
        $layout = Split-Path $ModulePath
        (Get-ChildItem $layout -Filter *.dll).Name | Should -Be 'ReplyAdmin.dll'
        $dependencies = (Get-ChildItem (Join-Path $layout 'dependencies') -Filter *.dll).Name
        foreach ($name in 'ReplyAdmin.Engine.dll', 'MailKit.dll', 'MimeKit.dll', 'BouncyCastle.Cryptography.dll') { $dependencies | Should -Contain $name }
    }
}
