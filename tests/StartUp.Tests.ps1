Set-StrictMode -Version Latest

# What a scheduled run pays before it does any work (issue 17): the module's assemblies carry ReadyToRun code for the
# .NET that built them (build.ps1, tools/ReadyToRun), and a fresh process uses it instead of JIT-compiling.
Describe 'Module start-up' -Tag Unit {
    BeforeAll {
        . "$PSScriptRoot/Support/Common.ps1"
        $moduleDir = Split-Path $ModulePath
        # True when the file holds precompiled (ReadyToRun) code beside its IL.
        function Test-ReadyToRun([string] $Path) {
            $stream = [IO.File]::OpenRead($Path)
            try {
                $reader = [System.Reflection.PortableExecutable.PEReader]::new($stream)
                $reader.PEHeaders.CorHeader.ManagedNativeHeaderDirectory.Size -gt 0
            } finally { $stream.Dispose() }
        }
    }

    Context 'The laid-out module' {
        It 'Holds ReadyToRun code in <Name>' -TestCases @(
            @{ Name = 'ReplyAdmin.dll' }, @{ Name = 'dependencies/ReplyAdmin.Engine.dll' }, @{ Name = 'dependencies/MailKit.dll' },
            @{ Name = 'dependencies/MimeKit.dll' }, @{ Name = 'dependencies/DnsClient.dll' }, @{ Name = 'dependencies/Microsoft.Identity.Client.dll' }
        ) {
            Test-ReadyToRun (Join-Path $moduleDir $Name) | Should -BeTrue -Because 'build.ps1 compiles the assemblies every run uses ahead of time'
        }

        It 'Leaves BouncyCastle as IL only (large, and used only for DKIM signing and S/MIME)' {
            Test-ReadyToRun (Join-Path $moduleDir 'dependencies/BouncyCastle.Cryptography.dll') | Should -BeFalse
        }
    }

    Context 'A fresh PowerShell that imports the module, reads a configuration and classifies a reply' {
        BeforeAll {
            $work = Join-Path ([IO.Path]::GetTempPath()) ('replyadmin-startup-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
            $null = New-Item -ItemType Directory -Path $work
            $config = Join-Path $work 'config.json'
            Import-Module $ModulePath -Force
            Set-ReplyMailbox -ConfigPath $config -Server imap.example.test -UserName replies@example.test -Folder Replies -CredentialReference env:STARTUP_UNUSED
            $reply = Get-ChildItem (Join-Path $PSScriptRoot 'fixtures/classification/human') -Filter *.eml | Select-Object -First 1
            # The runtime lists every method it JIT-compiles (DOTNET_JitStdOutFile, DOTNET_JitDisasmSummary; release runtimes have both).
            $jitLog = Join-Path $work 'jit.txt'
            $pwsh = Get-PwshCommand
            $script = "Import-Module '$ModulePath'; `$null = Get-ReplyMailbox -ConfigPath '$config'; (Get-ReplyClassification -LiteralPath '$($reply.FullName)').Class"
            $env:DOTNET_JitDisasmSummary = '1'; $env:DOTNET_JitStdOutFile = $jitLog
            try { $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $script } finally { Remove-Item env:DOTNET_JitDisasmSummary, env:DOTNET_JitStdOutFile }
            $compiled = @(Get-Content -LiteralPath $jitLog | Where-Object { $_ -match 'JIT compiled (\S+?):' } | ForEach-Object { $Matches[1] })
        }
        AfterAll { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }

        It 'Does the work (the classifier ran)' {
            $output | Should -Be 'Human'
            $compiled.Count | Should -BeGreaterThan 100 -Because 'the listing works: PowerShell itself JIT-compiles its own code'
        }

        It 'JIT-compiles almost nothing of <Assembly>' -TestCases @(@{ Assembly = 'ReplyAdmin.Engine' }, @{ Assembly = 'MimeKit' }) {
            # Without ReadyToRun code this takes several hundred methods of each; a few stay (methods crossgen skips).
            @($compiled | Where-Object { $_ -like "$Assembly.*" }).Count | Should -BeLessThan 20
        }
    }
}
