@{
    RootModule           = 'ReplyAdmin.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0c51a4-2f0e-4d0a-9a57-0a4f7b2f5e31'
    Author               = 'ReplyAdmin'
    CompanyName          = 'ReplyAdmin'
    Copyright            = '(c) 2026 ReplyAdmin contributors. MIT License (the LICENSE file in the module folder).'
    Description          = 'Routes replies to mailing-list campaigns into one shared IMAP folder (TLS, port 993), optionally forwarding them, with per-list handling and filtering of auto-generated replies.'
    # PowerShell 7.4 or later (.NET 8): the assemblies target net8.0 and load their dependencies in a private
    # AssemblyLoadContext, which Windows PowerShell 5.1 does not have.
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    # Registers the load context before ReplyAdmin.dll loads: see that file.
    NestedModules        = @('ReplyAdmin.LoadContext.psm1')
    FormatsToProcess     = @('ReplyAdmin.format.ps1xml', 'Classification.format.ps1xml', 'ClientSetup.format.ps1xml', 'Scanning.format.ps1xml', 'SenderAuthentication.format.ps1xml')
    CmdletsToExport      = @(
        'Add-ReplyList', 'Get-ReplyList', 'Set-ReplyList', 'Remove-ReplyList',
        'Get-ReplyListHandling', 'Set-ReplyListHandling',
        'Get-ReplyMailbox', 'Set-ReplyMailbox',
        'Get-ReplySource', 'Set-ReplySource',
        'Get-ReplySmtpRelay', 'Set-ReplySmtpRelay',
        'Test-ReplyImapConnection', 'Connect-ReplyAccount', 'Get-ReplyLease',
        'Get-ReplyCoordination', 'Set-ReplyCoordination', 'Get-ReplyShardSieveScript',
        'Get-ReplyScanner', 'Set-ReplyScanner', 'Test-ReplyScanner',
        'Invoke-ReplyProcessing',
        'Get-ReplyClassification',
        'Get-ReplyJournal',
        'Get-ReplyMailClientSetting', 'Export-ReplyMailClientProfile',
        'Register-ReplyProcessingSchedule', 'Get-ReplyProcessingSchedule', 'Unregister-ReplyProcessingSchedule',
        'Get-ReplySenderAuthentication', 'Set-ReplySenderAuthentication', 'Test-ReplySenderAuthentication'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @('Get-ListReplyHandling', 'Set-ListReplyHandling', 'Test-ImapConnection')
    PrivateData          = @{
        PSData = @{
            Tags         = @('IMAP', 'Mail', 'MailingList', 'Replies', 'AutoReply', 'MailKit', 'Linux', 'PSEdition_Core')
            # No ProjectUri or LicenseUri: the project has no public web address yet, and both must be absolute
            # URLs (Compress-PSResource refuses a relative 'LICENSE'). The licence (MIT) is the LICENSE file that
            # ships in the module folder and so in the package. Add both once the project has a public home.
            # build.ps1 writes the version's section of CHANGELOG.md here in the laid-out manifest.
            ReleaseNotes = ''
        }
    }
}
