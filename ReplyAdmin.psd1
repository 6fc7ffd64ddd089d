@{
    RootModule           = 'ReplyAdmin.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0c51a4-2f0e-4d0a-9a57-0a4f7b2f5e31'
    Author               = 'ReplyAdmin'
    CompanyName          = 'ReplyAdmin'
    Copyright            = '(c) ReplyAdmin contributors.'
    Description          = 'Routes replies to mailing-list campaigns into one shared IMAP folder (TLS, port 993), optionally forwarding them, with per-list handling and filtering of auto-generated replies.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Core', 'Desktop')
    FormatsToProcess     = @('ReplyAdmin.format.ps1xml', 'Classification.format.ps1xml', 'ClientSetup.format.ps1xml')
    CmdletsToExport      = @(
        'Add-ReplyList', 'Get-ReplyList', 'Set-ReplyList', 'Remove-ReplyList',
        'Get-ReplyListHandling', 'Set-ReplyListHandling',
        'Get-ReplyMailbox', 'Set-ReplyMailbox',
        'Get-ReplySource', 'Set-ReplySource',
        'Get-ReplySmtpRelay', 'Set-ReplySmtpRelay',
        'Test-ReplyImapConnection', 'Get-ReplyLease',
        'Invoke-ReplyProcessing',
        'Get-ReplyClassification',
        'Get-ReplyJournal',
        'Get-ReplyMailClientSetting', 'Export-ReplyMailClientProfile',
        'Register-ReplyProcessingSchedule'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @('Get-ListReplyHandling', 'Set-ListReplyHandling', 'Test-ImapConnection')
    PrivateData          = @{
        PSData = @{
            Tags = @('IMAP', 'Mail', 'MailingList', 'Replies', 'MailKit')
        }
    }
}
