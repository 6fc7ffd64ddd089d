#Requires -Version 7.0
# Every exported command has full help: a synopsis of its own, a description, at least two examples with code
# that parses and calls real parameters, a description for every parameter, declared and documented outputs;
# about_ReplyAdmin exists; docs/help holds exactly one markdown file per exported command. The command list
# comes from the built module, so a new cmdlet without help fails here.
Set-StrictMode -Version Latest

BeforeDiscovery {
    . "$PSScriptRoot/Support/Common.ps1"
    $module = Import-Module $ModulePath -Force -PassThru
    $commonParameters = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
    $commandCases = foreach ($command in Get-Command -Module $module.Name -CommandType Cmdlet, Function | Sort-Object Name) {
        @{
            Name       = $command.Name
            Parameters = @(foreach ($p in $command.Parameters.Keys | Sort-Object) {
                    if ($p -notin $commonParameters) { @{ Name = $command.Name; Parameter = $p } }
                })
        }
    }
}

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    $module = Import-Module $ModulePath -Force -PassThru
    $docsPath = Join-Path $PSScriptRoot '../docs/help'

    # The text of a help property (description, remarks, ...), '' when the property is missing.
    function Get-HelpText($Object, [string] $Property) {
        if ($null -eq $Object) { return '' }
        $value = $Object.PSObject.Properties[$Property]
        if ($null -eq $value -or $null -eq $value.Value) { return '' }
        (@($value.Value) | ForEach-Object { if ($_ -is [string]) { $_ } elseif ($_.PSObject.Properties['Text']) { $_.Text } else { "$_" } }) -join "`n"
    }

    function Get-HelpExample([string] $Name) {
        $help = Get-Help $Name -Full
        $examples = $help.PSObject.Properties['examples']?.Value
        if ($null -eq $examples -or $examples -is [string]) { return @() }
        @($examples.PSObject.Properties['example']?.Value | Where-Object { $_ })
    }
}

Describe 'Help of <Name>' -Tag Unit -ForEach $commandCases {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
    }

    It 'Has a synopsis of its own, not the generated syntax line' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -Match ('^' + [regex]::Escape($Name) + '(\s|$)')
    }

    It 'Has a description' {
        (Get-HelpText $help 'description').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'Has at least two examples, each with code' {
        $examples = @(Get-HelpExample $Name)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            (Get-HelpText $example 'code').Trim() | Should -Not -BeNullOrEmpty -Because "example '$(Get-HelpText $example 'title')' needs code"
            (Get-HelpText $example 'remarks').Trim() | Should -Not -BeNullOrEmpty -Because "example '$(Get-HelpText $example 'title')' needs an explanation"
        }
    }

    It 'Has examples that parse and use only parameters the ReplyAdmin cmdlets have' {
        $exported = @(Get-Command -Module $module.Name)
        foreach ($example in Get-HelpExample $Name) {
            $code = Get-HelpText $example 'code'
            $tokens = $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($code, [ref] $tokens, [ref] $errors)
            $errors | Should -BeNullOrEmpty -Because "the code of '$(Get-HelpText $example 'title')' must parse"
            foreach ($call in $ast.FindAll({ param($a) $a -is [System.Management.Automation.Language.CommandAst] }, $true)) {
                $called = $call.GetCommandName()
                if ($called -notlike '*-Reply*') { continue }
                $target = $exported | Where-Object Name -eq $called
                $target | Should -Not -BeNullOrEmpty -Because "'$called' in '$(Get-HelpText $example 'title')' must be a ReplyAdmin command"
                foreach ($parameter in $call.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                    $known = $target.Parameters.Values | Where-Object { $_.Name -eq $parameter.ParameterName -or $parameter.ParameterName -in $_.Aliases }
                    $known | Should -Not -BeNullOrEmpty -Because "$called has no parameter -$($parameter.ParameterName) (example '$(Get-HelpText $example 'title')')"
                }
            }
        }
    }

    It 'Describes parameter -<Parameter>' -ForEach $Parameters {
        $entry = @($help.PSObject.Properties['parameters']?.Value?.PSObject.Properties['parameter']?.Value) | Where-Object { $_ -and $_.name -eq $Parameter }
        $entry | Should -Not -BeNullOrEmpty -Because "Get-Help $Name should list -$Parameter"
        (Get-HelpText $entry 'description').Trim() | Should -Not -BeNullOrEmpty -Because "-$Parameter of $Name needs a description"
    }

    It 'Shows one syntax block per parameter set' {
        @($help.syntax.syntaxItem).Count | Should -Be @($command.ParameterSets).Count
    }

    It 'Declares an output type' {
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'Documents its outputs and related links' {
        $returnValues = $help.PSObject.Properties['returnValues']?.Value
        $returnValues | Should -Not -BeNullOrEmpty
        @($returnValues.returnValue).Count | Should -BeGreaterOrEqual 1
        $help.PSObject.Properties['relatedLinks']?.Value | Should -Not -BeNullOrEmpty
    }
}

Describe 'about_ReplyAdmin' -Tag Unit {
    It 'Is found by Get-Help' {
        $about = Get-Help about_ReplyAdmin
        $about | Should -Not -BeNullOrEmpty
        $text = $about | Out-String
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'REPLYADMIN_CONFIG'
    }

    It 'Names the four reply-handling settings of the requirement' {
        $text = Get-Help about_ReplyAdmin | Out-String
        foreach ($setting in 'Store in IMAP (including auto-generated replies)', 'Store in IMAP (without auto-generated replies)',
            'Forward to address and store in IMAP (including auto-generated)', 'Forward to address and store in IMAP (without auto-generated)') {
            $text | Should -BeLike "*$setting*"
        }
    }
}

Describe 'Help in a fresh process' -Tag Unit {
    # PowerShell looks for help in culture folders (<module>/<culture>/) from the current UI culture up to its
    # parents, then falls back to en-US. The help ships in en-US only; this checks the fallback for other cultures.
    It 'Is found under the UI culture <Culture>' -ForEach @(
        @{ Culture = '' }, @{ Culture = 'en-US' }, @{ Culture = 'de-DE' }
    ) {
        $pwsh = @(Get-PwshCommand)
        $script = "[cultureinfo]::CurrentUICulture = '$Culture'; Import-Module '$($ModulePath -replace "'", "''")'; " +
            "(Get-Help Add-ReplyList).Synopsis; (Get-Help about_ReplyAdmin | Out-String).Contains('LONG DESCRIPTION')"
        $output = @(& $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $script)
        $LASTEXITCODE | Should -Be 0
        $output[0] | Should -Not -Match '^Add-ReplyList'
        $output[0] | Should -Not -BeNullOrEmpty
        $output[-1] | Should -Be 'True'
    }
}

Describe 'The help sources in docs/help' -Tag Unit {
    It 'Have a markdown file for every exported command' {
        $missing = Get-Command -Module $module.Name -CommandType Cmdlet, Function | Where-Object { -not (Test-Path (Join-Path $docsPath "$($_.Name).md")) } | ForEach-Object Name
        $missing | Should -BeNullOrEmpty -Because 'every exported command needs docs/help/<Name>.md'
    }

    It 'Name every exported alias in the help of the command it stands for' {
        foreach ($alias in Get-Command -Module $module.Name -CommandType Alias) {
            Get-Content (Join-Path $docsPath "$($alias.ResolvedCommand.Name).md") -Raw | Should -Match ([regex]::Escape($alias.Name))
        }
    }

    It 'Have no markdown file for a command that does not exist' {
        $exported = @(Get-Command -Module $module.Name).Name
        $stale = Get-ChildItem $docsPath -Filter *.md | Where-Object { $_.BaseName -notlike 'about_*' -and $_.BaseName -notin $exported } | ForEach-Object Name
        $stale | Should -BeNullOrEmpty -Because 'docs/help should document only exported commands'
    }

    It 'Have an about_ReplyAdmin topic' {
        Join-Path $docsPath 'about_ReplyAdmin.md' | Should -Exist
    }
}

Describe 'The format views' -Tag Unit {
    It 'Name no engine, MimeKit or MailKit type literally (PowerShell does not look into ReplyAdmin''s load context)' {
        foreach ($file in Get-ChildItem (Split-Path $ModulePath) -Filter *.format.ps1xml) {
            Get-Content $file.FullName -Raw | Should -Not -Match '\[(ReplyAdmin\.Engine|MimeKit|MailKit)\.' -Because "$($file.Name) is read in the default load context"
        }
    }
}
