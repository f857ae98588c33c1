// The package ships no types; this is the part of its result the generator reads.
declare module 'validate-npm-package-name' {
  interface Validation {
    validForNewPackages: boolean
    validForOldPackages: boolean
    errors?: string[]
    warnings?: string[]
  }
  export default function validate(name: string): Validation
}
